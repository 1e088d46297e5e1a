import type { MessageFieldsFragment } from '../generated/graphql';
import type { SyncCursor } from './cursor';

/**
 * How a message reached the client: on the subscription (`live`), as the answer to its own send (`sent`), in a
 * syncMessages catch-up (`sync`), or in the fetch of a gap's missing range (`fetch`).
 */
export type MessageSource = 'live' | 'sent' | 'sync' | 'fetch';

/** A message held for a gap, and how it came. */
interface Held {
  message: MessageFieldsFragment;
  source: MessageSource;
}

/** A conversation's messages waiting for a gap below them to fill. */
interface Gap {
  held: Map<number, Held>;
  /** A fetch of the missing range is under way. */
  fetching: boolean;
  /** The fetch waits for messages still on their way (see {@link SequencerHooks.gapWaitMs}). */
  waiting?: ReturnType<typeof setTimeout>;
}

/** What a {@link Sequencer} needs from the client around it. */
export interface SequencerHooks {
  /** Hands one message to the app, with how it came (a held message: how it came first). */
  deliver(message: MessageFieldsFragment, source: MessageSource): void;
  /**
   * Fetches the messages of `conversationId` with seq in [fromSeq, toSeq] (feeding them to `accept` as fetched), or
   * rejects when it cannot now (no connection); the sequencer asks again on {@link Sequencer.retryGaps}.
   */
  fetchRange(conversationId: string, fromSeq: number, toSeq: number): Promise<void>;
  /** Runs a syncMessages catch-up from the current cursor (feeding its messages to `accept` as synced). */
  sync(): Promise<void>;
  /** A fetch failed (it is retried on {@link Sequencer.retryGaps}). */
  failed(error: unknown): void;
  /** Called whenever nothing is held any more (the moment the cursor may be saved). */
  settled(): void;
  /**
   * How long a live gap may stay open before its range is fetched, in ms. Two people who write at once, or a
   * send's answer that comes after the next message's delivery, open gaps that the next few milliseconds
   * close by themselves: fetching each would cost a query for nothing.
   */
  gapWaitMs: number;
}

/** How many delivered message ids are remembered for de-duplication beyond the per-conversation seq. */
const REMEMBERED_IDS = 10_000;

/**
 * Exactly once, in seq order per conversation. A message at or below the conversation's last seq, or whose
 * id was seen, is dropped; one right after it is delivered (with whatever it unblocks); one further ahead is
 * held, and the missing range fetched unless it arrived within `gapWaitMs`. Seqs of a conversation commit in order, so once a later one is visible
 * a missing one that a fetch does not return will never be visible to this user (a group they were not in
 * at the time): the fetch's end settles the gap and the held messages go out.
 *
 * The last seqs are the syncMessages cursor itself ({@link cursor}): they only ever cover what the app was
 * handed or will never see, which is what the server's cursor means, so saving them loses nothing.
 * Where a conversation absent from them stands is known from a sync (it continues the cursor, never skipping)
 * or from seq 1. A live message of such a conversation may have overtaken earlier ones (deliveries through a
 * cluster are not ordered), so it is held and a sync tells what came before it.
 */
export class Sequencer {
  /** Per conversation, the last seq handed to the app (or settled as never visible). */
  private last: SyncCursor = new Map();
  /** Only the conversations that hold messages or fetch a gap. */
  private readonly gaps = new Map<string, Gap>();
  private readonly seenIds = new Set<string>();

  constructor(private readonly hooks: SequencerHooks) {}

  /** True while some message waits for a gap to fill. */
  get holding(): boolean {
    for (const gap of this.gaps.values()) if (gap.held.size > 0) return true;
    return false;
  }

  /** The syncMessages cursor of what the app got: read it, never change it (the sequencer owns it). */
  get cursor(): ReadonlyMap<string, number> {
    return this.last;
  }

  /** Takes one message, saying how it came: only a sync tells where a conversation unknown so far stands. */
  accept(message: MessageFieldsFragment, source: MessageSource): void {
    if (this.seenIds.has(message.id)) return;
    const id = message.conversationId;
    const last = this.last.get(id);
    if (last !== undefined && message.seq <= last) return;
    if (last === undefined ? source === 'sync' || message.seq === 1 : message.seq === last + 1) {
      this.deliver({ message, source });
      this.release(id);
      return;
    }
    let gap = this.gaps.get(id);
    if (!gap) this.gaps.set(id, (gap = { held: new Map(), fetching: false }));
    if (!gap.held.has(message.seq)) gap.held.set(message.seq, { message, source });
    if (gap.fetching || gap.waiting) return;
    gap.waiting = setTimeout(() => {
      gap.waiting = undefined;
      if (this.gaps.get(id) === gap && gap.held.size > 0) this.fill(id, gap);
    }, this.hooks.gapWaitMs);
  }

  /** Starts over from `cursor` (a saved one, or empty): the app had everything it covers, and nothing else. */
  reset(cursor: SyncCursor): void {
    this.last = cursor;
    for (const gap of this.gaps.values()) clearTimeout(gap.waiting);
    this.gaps.clear();
    this.seenIds.clear();
  }

  /** Fetches the gaps still open now (call once a connection is back and caught up: nothing more is on its way). */
  retryGaps(): void {
    for (const [id, gap] of this.gaps) if (gap.held.size > 0) this.fill(id, gap);
  }

  private deliver({ message, source }: Held): void {
    this.last.set(message.conversationId, message.seq);
    this.seenIds.add(message.id);
    if (this.seenIds.size > REMEMBERED_IDS) this.seenIds.delete(this.seenIds.values().next().value!);
    this.hooks.deliver(message, source);
  }

  /** Delivers the held messages that now follow on. */
  private release(id: string): void {
    const gap = this.gaps.get(id);
    if (gap) {
      // A sync may deliver a held message itself (it came live first, then in the sync that placed it).
      for (const seq of gap.held.keys()) if (seq <= this.last.get(id)!) gap.held.delete(seq);
      for (let next = gap.held.get(this.last.get(id)! + 1); next; next = gap.held.get(this.last.get(id)! + 1)) {
        gap.held.delete(next.message.seq);
        this.deliver(next);
      }
      if (gap.held.size === 0 && !gap.fetching) {
        clearTimeout(gap.waiting);
        this.gaps.delete(id);
      }
    }
    if (!this.holding) this.hooks.settled();
  }

  /**
   * Fetches what is missing below the held messages: the range when the last seq is known, else a sync.
   * Only what a fetch covered is settled: messages that came while it ran may have moved the gap above it.
   */
  private fill(id: string, gap: Gap): void {
    if (gap.fetching) return;
    clearTimeout(gap.waiting);
    gap.waiting = undefined;
    gap.fetching = true;
    const firstHeld = (): number => Math.min(...gap.held.keys());
    const from = this.last.get(id);
    const to = firstHeld() - 1;
    const fetched = from !== undefined ? this.hooks.fetchRange(id, from + 1, to) : this.hooks.sync();
    fetched.then(
      () => {
        gap.fetching = false;
        // A reset forgot this gap (another user): nothing of it may touch the new cursor.
        if (this.gaps.get(id) !== gap) return;
        if (gap.held.size === 0) return void this.gaps.delete(id);
        const first = firstHeld();
        const last = this.last.get(id);
        // Seqs the fetch covered but did not return will never come; a sync that left the conversation
        // unknown returned nothing before its first held message.
        const settled = from !== undefined ? Math.min(to, first - 1) : last === undefined ? first - 1 : undefined;
        if (settled !== undefined && (last === undefined || last < settled)) this.last.set(id, settled);
        this.release(id);
        if (gap.held.size > 0) this.fill(id, gap);
      },
      (error) => {
        gap.fetching = false;
        this.hooks.failed(error);
      },
    );
  }
}
