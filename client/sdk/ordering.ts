import type { MessageFieldsFragment } from '../generated/graphql';

/** Per conversation: the last seq handed to the app, and the later messages waiting for a gap to fill. */
interface Conversation {
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

  /** Takes one message from any source: sync, live event, gap fetch, or the answer to a send. */
  accept(message: MessageFieldsFragment): void {
    if (this.seenIds.has(message.id)) return;
    const conversation = this.conversation(message.conversationId);
    const { last } = conversation;
    if (last !== undefined && message.seq <= last) return;
    if (last === undefined || message.seq === last + 1) {
      this.deliver(conversation, message);
      this.release(conversation);
      return;
    }
    conversation.held.set(message.seq, message);
    this.fill(message.conversationId, conversation);
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
    for (let next = conversation.held.get(conversation.last! + 1); next; next = conversation.held.get(conversation.last! + 1)) {
      conversation.held.delete(next.seq);
      this.deliver(conversation, next);
    }
    if (conversation.held.size === 0 && !this.holding) this.hooks.settled();
  }

  private fill(id: string, conversation: Conversation): void {
    if (conversation.fetching) return;
    conversation.fetching = true;
    const from = conversation.last! + 1;
    const to = Math.min(...conversation.held.keys()) - 1;
    this.hooks.fetchRange(id, from, to).then(
      () => {
        conversation.fetching = false;
        // What the fetch did not return below the first held message will never come: settle the gap.
        if (conversation.held.size === 0) return;
        const first = Math.min(...conversation.held.keys());
        if (conversation.last! < first - 1) conversation.last = first - 1;
        this.release(conversation);
        if (conversation.held.size > 0) this.fill(id, conversation);
      },
      () => {
        conversation.fetching = false;
      },
    );
  }
}
