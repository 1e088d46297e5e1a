import type { Redis } from 'ioredis';
import type { Logger } from '../common/logger';
import type { ModerationStore } from './moderation.store';
import type { WordsModeration } from './moderation.words';

/** How a node keeps its automaton in step with the word lists in the database. */
export interface WordListSyncOptions {
  store: ModerationStore;
  /** The adapter whose automaton is rebuilt. */
  words: WordsModeration;
  /** The command connection (cluster mode); unset, changes are only applied in this process. */
  redis?: Redis;
  /** The pub/sub channel announcing changes, under the deployment's key prefix. @default 'im:moderation' */
  channel?: string;
  /** How often the lists' versions are compared anyway, in case an announcement was missed. @default 30000 */
  recheckMs?: number;
  /** Changes announced within this long are applied by one rebuild. @default 50 */
  debounceMs?: number;
  log: Logger;
}

/**
 * Each node holds the compiled automaton in memory. A change is committed, then announced over Redis pub/sub; every
 * node (the announcing one included) compares the lists' (id, version) pairs with those it compiled and rebuilds
 * when they differ. Announcements are debounced, so that a burst of admin edits costs one rebuild, and a periodic
 * comparison catches what an announcement lost while a node was away from Redis.
 */
export class WordListSync {
  private readonly channel: string;
  private subscriber?: Redis;
  private timer?: NodeJS.Timeout;
  /** What the automaton was compiled from. */
  private compiledFrom: string | undefined;
  /** A rebuild scheduled but not started: later requests join it. */
  private scheduled?: Promise<void>;
  /** The rebuild running, if any: the next one waits for it. */
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly options: WordListSyncOptions) {
    this.channel = options.channel ?? 'im:moderation';
  }

  /** Compiles the lists, then listens for announcements and starts the periodic comparison. */
  async start(): Promise<void> {
    await this.rebuild();
    const { redis, log } = this.options;
    if (redis) {
      const subscriber = redis.duplicate({ connectionName: 'im-moderation' });
      this.subscriber = subscriber;
      subscriber.on('error', (err: Error) => log.debug({ err }, 'moderation subscriber connection error'));
      subscriber.on('message', () => void this.refresh());
      await subscriber.connect();
      await subscriber.subscribe(this.channel);
      // Announcements published while it was away are lost: compare at once when it is back.
      subscriber.on('ready', () => void this.refresh());
    }
    this.timer = setInterval(() => void this.refresh(), this.options.recheckMs ?? 30_000);
    this.timer.unref();
  }

  /**
   * Called after a change was committed: this node has rebuilt when the promise resolves, and the others are told.
   * An announcement that fails is logged; the periodic comparison brings the others in step then.
   */
  async changed(): Promise<void> {
    await this.options.redis?.publish(this.channel, '1').catch((err: unknown) => this.options.log.warn({ err }, 'could not announce a word-list change; other nodes pick it up within their recheck period'));
    await this.refresh();
  }

  /** Schedules a comparison (and a rebuild if needed), joining one already scheduled. */
  refresh(): Promise<void> {
    this.scheduled ??= new Promise((resolve) => setTimeout(resolve, this.options.debounceMs ?? 50)).then(() => {
      // Requests from now on schedule the next one: they may follow a commit this rebuild reads before.
      this.scheduled = undefined;
      this.running = this.running.then(() => this.rebuild());
      return this.running;
    });
    return this.scheduled;
  }

  /** Stops listening and comparing. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
    await this.scheduled;
    await this.running;
  }

  private async rebuild(): Promise<void> {
    try {
      // The versions first: lists changed between the two reads are compiled newer than recorded, and rebuilt again.
      const fingerprint = await this.options.store.fingerprint();
      if (fingerprint === this.compiledFrom) return;
      this.options.words.load(await this.options.store.compiled());
      this.compiledFrom = fingerprint;
      this.options.log.info({ words: this.options.words.size }, 'word lists compiled');
    } catch (err) {
      this.options.log.warn({ err }, 'could not read the word lists; keeping the ones compiled before');
    }
  }
}
