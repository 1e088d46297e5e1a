import { MessagesDocument, SyncMessagesDocument, type SyncMessagesQuery } from '../generated/graphql';
import { networkError } from './errors';
import type { SocketQueries, ServerEvent } from './connection';
import { decodeCursor, encodeCursor, type SyncCursor } from './cursor';
import type { CursorStore } from './cursor-store';
import type { MessageSource, Sequencer } from './ordering';

/** The most messages one `messages` query returns. */
const MESSAGES_LIMIT = 100;

/**
 * How long after the app got messages the cursor is saved: a burst of them is saved once, and a crash repeats
 * at most this much (the messages after the saved cursor come again on the next start).
 */
const SAVE_AFTER_MS = 500;

/** How an event that is not a catch-up's reached the client. */
export type LiveSource = Extract<MessageSource, 'live' | 'sent'>;

/** What a {@link CatchUp} needs from the client around it. */
export interface CatchUpHooks {
  store: CursorStore;
  sequencer: Sequencer;
  /** The signed-in user (cursors are kept per user). */
  userId(): string;
  /** Hands a live event (or a send's answer) on: messages go through the sequencer there. */
  dispatch(event: ServerEvent, source: LiveSource): void;
  onError(error: unknown): void;
  /** Messages per syncMessages page (1-500). */
  pageSize: number;
}

/**
 * Catch-up on every (re)connect: live events are buffered while syncMessages is paged from the cursor until
 * hasMore is false, then the buffer is drained (the sequencer drops what the sync already delivered). The
 * cursor is the sequencer's last seqs, which live messages move as well as syncs: no query runs just to move
 * it. It is saved shortly after the app got messages, so a restart from it repeats nothing the app had.
 */
export class CatchUp {
  private socket: SocketQueries | undefined;
  /** Live events held while a catch-up runs; undefined when they go straight through. */
  private buffer: [ServerEvent, LiveSource][] | undefined;
  private syncing: Promise<void> = Promise.resolve();
  /** The sync waiting to start, and the socket it will run on. */
  private queued: { socket: SocketQueries; run: Promise<void> } | undefined;
  private saving: Promise<void> = Promise.resolve();
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  /** The cursor last loaded or saved: an unchanged one is not saved again. */
  private saved = '';

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
    this.flush();
  }

  /** A live event from the subscription, or the answer to a send (`sent`), which waits behind them. */
  live(event: ServerEvent, source: LiveSource = 'live'): void {
    if (this.buffer) this.buffer.push([event, source]);
    else this.hooks.dispatch(event, source);
  }

  /** The sequencer holds nothing: the app got messages, save the cursor past them soon. */
  settled(): void {
    this.saveTimer ??= setTimeout(() => void this.save(), SAVE_AFTER_MS);
  }

  /**
   * Saves the cursor now if it moved (the client closes), after any save under way. It covers only what the
   * app was handed (or will never see), even while later messages are held, so it can never run ahead.
   */
  save(): Promise<void> {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const cursor = encodeCursor(this.hooks.sequencer.cursor);
    if (cursor === this.saved) return this.saving;
    const userId = this.hooks.userId();
    this.saved = cursor;
    this.saving = this.saving.then(() => this.hooks.store.save(userId, cursor)).catch((error) => this.hooks.onError(error));
    return this.saving;
  }

  /**
   * Starts the sequencer from the signed-in user's saved cursor. One that cannot be loaded or read is
   * reported and catch-up starts from the beginning: the app may get old messages again, but misses none.
   */
  async restore(): Promise<void> {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    let cursor: SyncCursor = new Map();
    try {
      this.saved = (await this.hooks.store.load(this.hooks.userId())) ?? '';
      cursor = decodeCursor(this.saved);
    } catch (error) {
      this.saved = '';
      this.hooks.onError(error);
    }
    this.hooks.sequencer.reset(cursor);
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
      for (const message of messages) this.hooks.sequencer.accept(message, 'fetch');
      from = beforeSeq;
    }
  }

  /** A sync from the current cursor on the live socket (the sequencer's way to learn where a conversation stands). */
  resync(): Promise<void> {
    const socket = this.socket;
    return socket ? this.sync(socket) : Promise.reject(networkError('no connection to sync on'));
  }

  /**
   * Pages syncMessages on `socket` until hasMore is false, after the sync under way if any: one at a time,
   * and callers that come while one waits to start share it (it will see everything they could ask for).
   */
  private sync(socket: SocketQueries): Promise<void> {
    if (this.queued?.socket === socket) return this.queued.run;
    const run = this.syncing.catch(() => undefined).then(() => {
      if (this.queued?.run === run) this.queued = undefined;
      return this.page(socket);
    });
    this.queued = { socket, run };
    this.syncing = run;
    return run;
  }

  /**
   * From what the app got; each next page from the cursor the last one returned, which is past messages the
   * sequencer may still hold for a gap: asking from what it delivered would return them again and again.
   */
  private async page(socket: SocketQueries): Promise<void> {
    let cursor = encodeCursor(this.hooks.sequencer.cursor);
    for (let hasMore = true; hasMore; ) {
      // A sync that stopped early must not pass for a complete one: the sequencer settles gaps on it.
      if (this.socket !== socket) throw networkError('the connection closed during a sync');
      const page: SyncMessagesQuery['syncMessages'] = (await socket.query(SyncMessagesDocument, { cursor, limit: this.hooks.pageSize })).syncMessages;
      for (const message of page.messages) this.hooks.sequencer.accept(message, 'sync');
      cursor = page.cursor;
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
    for (const [event, source] of buffered) this.hooks.dispatch(event, source);
  }
}
