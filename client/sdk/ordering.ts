import type { MessageFieldsFragment } from '../generated/graphql';

/** Per conversation: the last seq handed to the app, and the later messages waiting for a gap to fill. */
interface Conversation {
  /** Unknown until a sync (which never skips) or seq 1 gives where the conversation stands. */
  last: number | undefined;
  held: Map<number, MessageFieldsFragment>;
  /** A fetch of the missing range is under way. */
  fetching: boolean;
}

/** What a {@link Sequencer} needs from the client around it. */
export interface SequencerHooks {
  /** Hands one message to the app. */
  deliver(message: MessageFieldsFragment): void;
  /**
   * Fetches the messages of `conversationId` with seq in [fromSeq, toSeq] (feeding them to `accept`), or
   * rejects when it cannot now (no connection); the sequencer asks again on {@link Sequencer.retryGaps}.
   */
  fetchRange(conversationId: string, fromSeq: number, toSeq: number): Promise<void>;
  /** Runs a syncMessages catch-up from the current cursor (feeding its messages to `accept` as synced). */
  sync(): Promise<void>;
  /** A fetch failed (it is retried on {@link Sequencer.retryGaps}). */
  failed(error: unknown): void;
  /** Called whenever nothing is held any more (the moment a cursor may be saved). */
  settled(): void;
}

/** How many delivered message ids are remembered for de-duplication beyond the per-conversation seq. */
const REMEMBERED_IDS = 10_000;

/**
 * Exactly once, in seq order per conversation. A message at or below the conversation's last seq, or whose
 * id was seen, is dropped; one right after it is delivered (with whatever it unblocks); one further ahead is
 * held and the missing range fetched. Seqs of a conversation commit in order, so once a later one is visible
 * a missing one that a fetch does not return will never be visible to this user (a group they were not in
 * at the time): the fetch's end settles the gap and the held messages go out.
 *
 * Where a conversation stands is known from a sync (it continues the cursor, never skipping) or from seq 1.
 * A live message of a conversation not seen yet may have overtaken earlier ones (deliveries through a cluster
 * are not ordered), so it is held and a sync tells what came before it.
 */
export class Sequencer {
  private readonly conversations = new Map<string, Conversation>();
  private readonly seenIds = new Set<string>();

  constructor(private readonly hooks: SequencerHooks) {}

  /** True while some message waits for a gap to fill. */
  get holding(): boolean {
    for (const conversation of this.conversations.values()) if (conversation.held.size > 0) return true;
    return false;
  }

  /**
   * Takes one message: from a sync (`synced`), or live, from a gap fetch, or the answer to a send.
   */
  accept(message: MessageFieldsFragment, synced = false): void {
    if (this.seenIds.has(message.id)) return;
    const conversation = this.conversation(message.conversationId);
    const { last } = conversation;
    if (last !== undefined && message.seq <= last) return;
    if (last === undefined ? synced || message.seq === 1 : message.seq === last + 1) {
      this.deliver(conversation, message);
      this.release(conversation);
      return;
    }
    conversation.held.set(message.seq, message);
    this.fill(message.conversationId, conversation);
  }

  /** Forgets every conversation (another user signs in). */
  reset(): void {
    this.conversations.clear();
    this.seenIds.clear();
  }

  /** Asks again for the gaps whose fetch failed (call once a connection is back and caught up). */
  retryGaps(): void {
    for (const [id, conversation] of this.conversations) if (conversation.held.size > 0) this.fill(id, conversation);
  }

  private conversation(id: string): Conversation {
    let conversation = this.conversations.get(id);
    if (!conversation) this.conversations.set(id, (conversation = { last: undefined, held: new Map(), fetching: false }));
    return conversation;
  }

  private deliver(conversation: Conversation, message: MessageFieldsFragment): void {
    conversation.last = message.seq;
    this.seenIds.add(message.id);
    if (this.seenIds.size > REMEMBERED_IDS) this.seenIds.delete(this.seenIds.values().next().value!);
    this.hooks.deliver(message);
  }

  /** Delivers the held messages that now follow on. */
  private release(conversation: Conversation): void {
    if (conversation.last !== undefined) {
      for (let next = conversation.held.get(conversation.last + 1); next; next = conversation.held.get(conversation.last + 1)) {
        conversation.held.delete(next.seq);
        this.deliver(conversation, next);
      }
    }
    if (conversation.held.size === 0 && !this.holding) this.hooks.settled();
  }

  /**
   * Fetches what is missing below the held messages: the range when the last seq is known, else a sync.
   * Only what a fetch covered is settled: messages that came while it ran may have moved the gap above it.
   */
  private fill(id: string, conversation: Conversation): void {
    if (conversation.fetching) return;
    conversation.fetching = true;
    const firstHeld = (): number => Math.min(...conversation.held.keys());
    const known = conversation.last !== undefined;
    const to = firstHeld() - 1;
    const fetched = known ? this.hooks.fetchRange(id, conversation.last! + 1, to) : this.hooks.sync();
    fetched.then(
      () => {
        conversation.fetching = false;
        if (conversation.held.size === 0) return;
        const first = firstHeld();
        // Seqs the fetch covered but did not return will never come; a sync that left the conversation
        // unknown returned nothing before its first held message.
        const settled = known ? Math.min(to, first - 1) : conversation.last === undefined ? first - 1 : undefined;
        if (settled !== undefined && (conversation.last === undefined || conversation.last < settled)) conversation.last = settled;
        this.release(conversation);
        if (conversation.held.size > 0) this.fill(id, conversation);
      },
      (error) => {
        conversation.fetching = false;
        this.hooks.failed(error);
      },
    );
  }
}
