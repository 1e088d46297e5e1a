import type { Moderation, Verdict } from './moderation';

/** What a word list does to a text that contains one of its words. */
export type WordListAction = 'MASK' | 'REFUSE';

/** One list as the matcher compiles it. */
export interface CompiledList {
  action: WordListAction;
  words: readonly string[];
}

/**
 * Lower case per UTF-16 unit, only where lower-casing keeps one unit: folding must not move offsets, so that a
 * match found in the folded text masks the same units of the original. Built once (65,536 entries).
 */
const FOLD = (() => {
  const table = new Uint16Array(0x10000);
  for (let c = 0; c < 0x10000; c++) {
    const lower = String.fromCharCode(c).toLowerCase();
    table[c] = lower.length === 1 ? lower.charCodeAt(0) : c;
  }
  return table;
})();

/** A word as the matcher compares it: trimmed and folded like the texts it is matched against. */
export function foldWord(word: string): string {
  const trimmed = word.trim();
  let folded = '';
  for (let i = 0; i < trimmed.length; i++) folded += String.fromCharCode(FOLD[trimmed.charCodeAt(i)]!);
  return folded;
}

/**
 * An Aho-Corasick automaton over the words of every list: one pass over a text finds every occurrence of every
 * word, however many words there are. Matching is case-insensitive and per UTF-16 unit (a word inside a longer
 * word matches too: lists name what must not appear anywhere). A hand-written automaton rather than a package:
 * modern-ahocorasick segments texts into graphemes with Intl.Segmenter, which measured 30-60 ms for a
 * 5,000-character message here against well under a millisecond for this one.
 */
export class WordMatcher {
  /** Matches nothing, at no cost. */
  static readonly EMPTY = new WordMatcher([]);

  /** Transitions of each state, by folded UTF-16 unit; state 0 is the root. */
  private readonly next: Array<Map<number, number>> = [new Map()];
  /** The state to continue from when a unit has no transition (the longest proper suffix that is a prefix). */
  private fail: Int32Array = new Int32Array(1);
  /** Length of the longest MASK word ending in each state (its own or a suffix's); 0 for none. */
  private maskLength: Int32Array = new Int32Array(1);
  /** Whether a REFUSE word ends in each state (its own or a suffix's). */
  private refuses: Uint8Array = new Uint8Array(1);
  /** Distinct words compiled. */
  readonly size: number;

  constructor(lists: readonly CompiledList[]) {
    const ownMask: number[] = [0];
    const ownRefuse: number[] = [0];
    const seen = new Set<string>();
    for (const list of lists) {
      for (const raw of list.words) {
        const word = foldWord(raw);
        if (!word) continue;
        seen.add(word);
        let state = 0;
        for (let i = 0; i < word.length; i++) {
          const unit = word.charCodeAt(i);
          let to = this.next[state]!.get(unit);
          if (to === undefined) {
            to = this.next.length;
            this.next.push(new Map());
            ownMask.push(0);
            ownRefuse.push(0);
            this.next[state]!.set(unit, to);
          }
          state = to;
        }
        if (list.action === 'REFUSE') ownRefuse[state] = 1;
        else ownMask[state] = Math.max(ownMask[state]!, word.length);
      }
    }
    this.size = seen.size;
    this.link(ownMask, ownRefuse);
  }

  /** Failure links breadth-first, so that a state's suffix is complete before the state inherits from it. */
  private link(ownMask: number[], ownRefuse: number[]): void {
    const n = this.next.length;
    this.fail = new Int32Array(n);
    this.maskLength = Int32Array.from(ownMask);
    this.refuses = Uint8Array.from(ownRefuse);
    const queue: number[] = [...this.next[0]!.values()];
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      for (const [unit, to] of this.next[state]!) {
        let f = this.fail[state]!;
        while (f !== 0 && !this.next[f]!.has(unit)) f = this.fail[f]!;
        const target = this.next[f]!.get(unit);
        this.fail[to] = target !== undefined && target !== to ? target : 0;
        this.maskLength[to] = Math.max(this.maskLength[to]!, this.maskLength[this.fail[to]!]!);
        this.refuses[to] = this.refuses[to]! | this.refuses[this.fail[to]!]!;
        queue.push(to);
      }
    }
  }

  /** REFUSE when a REFUSE word occurs; MASK with each unit of every MASK word replaced by '*'; else ALLOW. */
  check(text: string): Verdict {
    if (this.size === 0) return { action: 'ALLOW', text };
    let state = 0;
    let units: string[] | undefined;
    // Units before this index are starred already, by an earlier match that overlaps a later one.
    let starredUntil = 0;
    for (let i = 0; i < text.length; i++) {
      const unit = FOLD[text.charCodeAt(i)]!;
      let to = this.next[state]!.get(unit);
      while (to === undefined && state !== 0) {
        state = this.fail[state]!;
        to = this.next[state]!.get(unit);
      }
      state = to ?? 0;
      if (this.refuses[state]) return { action: 'REFUSE', text };
      const length = this.maskLength[state]!;
      if (length) {
        units ??= text.split('');
        for (let j = Math.max(i - length + 1, starredUntil); j <= i; j++) units[j] = '*';
        starredUntil = i + 1;
      }
    }
    return units ? { action: 'MASK', text: units.join('') } : { action: 'ALLOW', text };
  }
}

/**
 * The word-list adapter: answers from the automaton in memory, without I/O. {@link load} swaps in a new automaton
 * (built by the caller off the request path); checks already running finish on the one they started with.
 */
export class WordsModeration implements Moderation {
  private matcher = WordMatcher.EMPTY;

  /** Compiles `lists` and answers from them from now on. */
  load(lists: readonly CompiledList[]): void {
    this.matcher = lists.length ? new WordMatcher(lists) : WordMatcher.EMPTY;
  }

  /** Distinct words in force. */
  get size(): number {
    return this.matcher.size;
  }

  check(_field: string, text: string): Promise<Verdict> {
    return Promise.resolve(this.matcher.check(text));
  }
}
