import type { MessageRecord, SeqRange } from './messages.store';

/** Rounds of reads in which a page keeps exact oldest-first order across conversations, before it settles for less. */
const EXACT_ROUNDS = 4;

interface Run {
  range: SeqRange;
  /** Seqs up to here have been read. */
  readTo: number;
  buffer: MessageRecord[];
  at: number;
}

const hungry = (r: Run) => r.at === r.buffer.length && r.readTo < r.range.to;
const older = (a: MessageRecord, b: MessageRecord) => a.createdAt < b.createdAt || (a.createdAt === b.createdAt && BigInt(a.id) < BigInt(b.id));

/**
 * One page of catch-up: up to `limit` messages, oldest first across conversations, of which each conversation
 * gives a gap-free run of seqs from its range's start, so that a cursor of "highest seq per conversation" never
 * skips a message. `read` fetches exactly the seqs of the ranges it is given (seqs of a conversation have no gaps).
 *
 * Rows are read a share of the page at a time, split across the conversations still unread, and more of a
 * conversation only when its next message is needed: a page reads about `limit` rows plus one per conversation
 * with news, where reading `limit` from each would cost `limit` times the number of conversations. Order across
 * conversations is exact (only heads are compared, as a merge of the runs would) for the first few rounds of reads
 * or twice `limit` rows; past that the page is filled from what was read and what is left comes next page, still
 * in seq order within each conversation.
 */
export async function oldestFirst(ranges: SeqRange[], limit: number, read: (slices: SeqRange[]) => Promise<MessageRecord[]>): Promise<MessageRecord[]> {
  const runs: Run[] = ranges.map((range) => ({ range, readTo: range.from, buffer: [], at: 0 }));
  const out: MessageRecord[] = [];
  let rounds = 0;
  let rows = 0;
  for (;;) {
    const exact = rounds < EXACT_ROUNDS && rows < 2 * limit;
    const starving = runs.filter(hungry);
    if (starving.length && (exact || runs.every((r) => r.at === r.buffer.length))) {
      const open = runs.filter((r) => r.readTo < r.range.to).length;
      const share = Math.max(1, Math.floor((limit - out.length) / open));
      const slices = starving.map((r) => ({ ...r.range, from: r.readTo, to: Math.min(r.range.to, r.readTo + share) }));
      const fetched = await read(slices);
      rounds++;
      rows += fetched.length;
      for (const [i, run] of starving.entries()) {
        run.buffer = fetched.filter((m) => m.conversationId === run.range.conversationId).sort((a, b) => a.seq - b.seq);
        run.at = 0;
        run.readTo = slices[i]!.to;
      }
    }
    while (out.length < limit) {
      // A conversation whose next message is unread might hold the oldest one: read it first while order is exact.
      if (exact && runs.some(hungry)) break;
      let best: Run | undefined;
      for (const r of runs) if (r.at < r.buffer.length && (!best || older(r.buffer[r.at]!, best.buffer[best.at]!))) best = r;
      if (!best) break;
      out.push(best.buffer[best.at++]!);
    }
    if (out.length >= limit || !runs.some((r) => r.at < r.buffer.length || r.readTo < r.range.to)) return out;
  }
}
