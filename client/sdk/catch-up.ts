import { MessagesDocument, SyncMessagesDocument, type SyncMessagesQuery } from '../generated/graphql';
import { networkError } from './errors';
import type { SocketQueries, ServerEvent } from './connection';
import type { CursorStore } from './cursor-store';
import type { Sequencer } from './ordering';

/** The most messages one `messages` query returns. */
const MESSAGES_LIMIT = 100;

/** What a {@link CatchUp} needs from the client around it. */
export interface CatchUpHooks {
  store: CursorStore;
  sequencer: Sequencer;
  /** The signed-in user (cursors are kept per user). */
  userId(): string;
  /** Hands a live event on (messages go through the sequencer there). */
  dispatch(event: ServerEvent): void;
  onError(error: unknown): void;
  /** Messages per syncMessages page (1-500). */
  pageSize: number;
  /** How soon after live messages a sync runs to move the saved cursor past them (ms). */
  advanceAfterMs: number;
}

/**
 * Catch-up on every (re)connect: live events are buffered while syncMessages is paged from the cursor until
 * hasMore is false, then the buffer is drained (the sequencer drops what the sync already delivered). The
 * cursor only moves through syncMessages, which never skips, and is saved once the app got every message it
 * covers; live messages move it through a sync soon after them, which also picks up anything the live
 * stream missed (an event sent while the subscription was being set up).
 */
export class CatchUp {
  private socket: SocketQueries | undefined;
  /** Live events held while a catch-up runs; undefined when they go straight through. */
  private buffer: ServerEvent[] | undefined;
  /** The newest cursor a sync returned, and whether it still has to be saved. */
  private cursor: string | null | undefined;
  private unsaved = false;
  private syncing: Promise<void> = Promise.resolve();
  private saving: Promise<void> = Promise.resolve();
  private advanceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly hooks: CatchUpHooks) {}

  /** A socket is up with `events` subscribed: buffer, sync, drain. */
  connected(socket: SocketQueries): void {
    this.socket = socket;
    this.buffer = [];
    // A failed sync still drains: the buffer must not grow for the socket's life, and the next sync (after
    // the next live message, or the next connection) starts again from the last cursor.
    void this.sync(socket)
      .catch((error) => this.socket === socket && this.hooks.onError(error))
      .then(() => this.drain(socket));
  }

  /** The socket is gone: what was buffered still goes to the app (the next catch-up repeats no message of it). */
  disconnected(): void {
    this.socket = undefined;
    clearTimeout(this.advanceTimer);
    this.advanceTimer = undefined;
    this.flush();
  }

  /** A live event from the subscription. */
  live(event: ServerEvent): void {
    if (this.buffer) this.buffer.push(event);
    else this.hooks.dispatch(event);
  }

  /** A live message reached the app: sync soon, so that the saved cursor moves past it. */
  delivered(): void {
    if (this.advanceTimer !== undefined || !this.socket) return;
    this.advanceTimer = setTimeout(() => {
      this.advanceTimer = undefined;
      const socket = this.socket;
      if (socket && !this.buffer) this.sync(socket).catch((error) => this.socket === socket && this.hooks.onError(error));
    }, this.hooks.advanceAfterMs);
  }

  /** The sequencer holds nothing: the newest cursor can be saved. */
  settled(): void {
    if (!this.unsaved || this.cursor == null) return;
    const cursor = this.cursor;
    const userId = this.hooks.userId();
    this.unsaved = false;
    this.saving = this.saving.then(() => this.hooks.store.save(userId, cursor)).catch((error) => this.hooks.onError(error));
  }

  /**
   * Feeds the sequencer the messages of a conversation with seq in [fromSeq, toSeq], on the live socket
   * (`messages` answers at most 100 at a time: the range is fetched from its bottom up).
   */
  async fetchRange(conversationId: string, fromSeq: number, toSeq: number): Promise<void> {
    const socket = this.socket;
    if (!socket) throw networkError('no connection to fetch a gap on');
    for (let from = fromSeq; from <= toSeq; ) {
      const beforeSeq = Math.min(toSeq + 1, from + MESSAGES_LIMIT);
      const { messages } = await socket.query(MessagesDocument, { conversationId, beforeSeq, limit: beforeSeq - from });
      for (const message of messages) this.hooks.sequencer.accept(message);
      from = beforeSeq;
    }
  }

  /** Forgets the cursor in memory (another user signs in). */
  reset(): void {
    this.cursor = undefined;
    this.unsaved = false;
  }

  /** Pages syncMessages on `socket` until hasMore is false; one sync at a time. */
  private sync(socket: SocketQueries): Promise<void> {
    const run = this.syncing.catch(() => undefined).then(() => this.page(socket));
    this.syncing = run;
    return run;
  }

  private async page(socket: SocketQueries): Promise<void> {
    if (this.cursor === undefined) this.cursor = await this.hooks.store.load(this.hooks.userId());
    for (let hasMore = true; hasMore && this.socket === socket; ) {
      const page: SyncMessagesQuery['syncMessages'] = (await socket.query(SyncMessagesDocument, { cursor: this.cursor, limit: this.hooks.pageSize })).syncMessages;
      for (const message of page.messages) this.hooks.sequencer.accept(message);
      this.cursor = page.cursor;
      this.unsaved = true;
      if (!this.hooks.sequencer.holding) this.settled();
      hasMore = page.hasMore;
    }
  }

  private drain(socket: SocketQueries): void {
    if (this.socket !== socket) return;
    this.flush();
    this.hooks.sequencer.retryGaps();
  }

  private flush(): void {
    const buffered = this.buffer ?? [];
    this.buffer = undefined;
    for (const event of buffered) this.hooks.dispatch(event);
  }
}
