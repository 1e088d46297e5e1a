import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../common/logger';
import type { MediaLimits } from '../config';
import { uploadKey } from './measure';
import type { ObjectStorage } from './storage';
import type { UploadsService } from './uploads.service';
import type { UploadStore } from './uploads.store';

/** The most rows one pass of each sweep handles; the next run takes the rest. */
const BATCH = 500;

/** Compare-and-delete: a lock is released only by the holder whose token it still carries. */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** What one run removed. */
export interface CleanupReport {
  /** Uploads never used by a message or avatar, past UPLOAD_ORPHAN_HOURS (rows and objects). */
  orphans: number;
  /** Objects under `uploads/` past that age that no pending upload claims. */
  strays: number;
  /** Uploads of messages past MEDIA_RETENTION_DAYS, released. */
  expired: number;
  /** False when another node held the lock, and this run did nothing. */
  ran: boolean;
}

/** Options of {@link MediaCleanup}. */
export interface CleanupOptions {
  store: UploadStore;
  storage: ObjectStorage;
  uploads: UploadsService;
  limits: MediaLimits;
  log: Logger;
  /** With Redis, one run at a time across the platform nodes. */
  redis?: Redis;
  /** @default 'im:' */
  keyPrefix?: string;
}

/**
 * The housekeeping of uploads, run every MEDIA_CLEANUP_INTERVAL_SECONDS by platform (and all-role) nodes: deletes
 * uploads never used past UPLOAD_ORPHAN_HOURS, objects a client PUT that no pending upload claims (a PUT repeated on
 * S3, where a presigned URL cannot be limited to one use, or a row deleted before its object), and with
 * MEDIA_RETENTION_DAYS releases the uploads of older messages. One run at a time: across nodes through a Redis lock
 * (SET NX PX with a random token, released by compare-and-delete), within a process by a flag.
 */
export class MediaCleanup {
  private timer?: NodeJS.Timeout;
  private running?: Promise<CleanupReport>;

  constructor(private readonly options: CleanupOptions) {}

  /** Runs every interval until {@link stop}. */
  start(): void {
    const every = this.options.limits.cleanupIntervalSeconds * 1000;
    this.timer = setInterval(() => {
      this.runOnce().catch((err: unknown) => this.options.log.warn({ err }, 'media clean-up failed; retrying at the next interval'));
    }, every);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One run as of `now` (tests pass a later time instead of waiting hours). */
  runOnce(now = Date.now()): Promise<CleanupReport> {
    this.running ??= this.locked(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async locked(now: number): Promise<CleanupReport> {
    const { redis } = this.options;
    if (!redis) return this.sweep(now);
    const key = `${this.options.keyPrefix ?? 'im:'}media-cleanup`;
    const token = randomBytes(16).toString('hex');
    // The lock outlives a node that died mid-run by at most one interval.
    const ttlMs = this.options.limits.cleanupIntervalSeconds * 1000;
    if ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') return { orphans: 0, strays: 0, expired: 0, ran: false };
    try {
      return await this.sweep(now);
    } finally {
      await redis.eval(RELEASE, 1, key, token).catch((err: unknown) => this.options.log.warn({ err }, 'could not release the media clean-up lock; it expires'));
    }
  }

  private async sweep(now: number): Promise<CleanupReport> {
    const { store, storage, uploads, limits } = this.options;
    const cutoff = now - limits.orphanHours * 3_600_000;

    const orphans = await store.createdBefore(['PENDING', 'READY', 'REVOKED'], cutoff, BATCH);
    await store.delete(orphans.map((u) => u.id));
    // After the rows are gone: objects of the same bytes that a live upload still has are kept.
    for (const upload of orphans) await uploads.dropObjects(upload);

    let strays = 0;
    const candidates: string[] = [];
    for await (const key of storage.listOlderThan('uploads/', new Date(cutoff))) {
      candidates.push(key.slice('uploads/'.length));
      if (candidates.length >= BATCH) break;
    }
    const pending = await store.pending(candidates);
    const stray = candidates.filter((id) => !pending.has(id));
    if (stray.length) {
      await storage.remove(stray.map(uploadKey));
      strays = stray.length;
    }

    let expired = 0;
    if (limits.retentionDays !== undefined) {
      const old = await store.attachedToMessagesBefore(now - limits.retentionDays * 86_400_000, BATCH);
      for (const upload of old) await uploads.release(upload.id);
      expired = old.length;
    }
    const report = { orphans: orphans.filter((u) => u.state !== 'REVOKED').length, strays, expired, ran: true };
    if (report.orphans || strays || expired) this.options.log.info(report, 'media clean-up');
    return report;
  }
}
