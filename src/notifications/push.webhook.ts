import { createHmac } from 'node:crypto';
import type { Logger } from '../common/logger';
import type { Metrics } from '../metrics/metrics';
import type { PushNotification, PushPort } from './push';

/** Settings of {@link WebhookPush}. */
export interface WebhookPushOptions {
  /** Where notifications are POSTed (PUSH_WEBHOOK_URL). */
  url: string;
  /** Key of the HMAC-SHA256 signature in `X-IM-Signature` (PUSH_WEBHOOK_SECRET). */
  secret: string;
  /** How long one attempt may take, answer body included, before it is aborted and retried. @default 5000 */
  timeoutMs?: number;
  /** Attempts per notification, the first included. @default 5 */
  maxAttempts?: number;
  /** Notifications held at once (waiting, in flight or waiting to be retried); more are dropped. @default 10000 */
  maxQueue?: number;
  /** Requests in flight at once, so that a slow receiver cannot take every socket of the process. @default 8 */
  concurrency?: number;
  /** Delay before the first retry; each further retry doubles it, with jitter. @default 500 */
  backoffMs?: number;
  /** Longest delay between two attempts (also caps a receiver's Retry-After). @default 30000 */
  maxBackoffMs?: number;
}

/** The header that carries the signature. */
export const SIGNATURE_HEADER = 'x-im-signature';

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the timestamp is signed with the body, so a receiver
 * that rejects old timestamps also rejects a replayed request.
 */
export function signature(secret: string, body: string, unixSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

interface Job {
  notification: PushNotification;
  body: string;
  /** Attempts made so far. */
  attempts: number;
}

/** What came of one attempt: delivered, worth another try (after at least `retryAfterMs`), or refused for good. */
type Outcome = { kind: 'sent' } | { kind: 'retry'; reason: string; retryAfterMs?: number } | { kind: 'failed'; reason: string };

/**
 * The webhook push adapter: POSTs each notification as JSON, signed, to one URL. A bounded in-memory queue feeds
 * a few concurrent requests; a network error, a timeout, 408, 425, 429 or a 5xx is retried with exponential
 * back-off and full jitter up to `maxAttempts`; any other non-2xx answer is final. Nothing survives a restart:
 * notifications are a hint (see the port's contract in ./push.ts).
 */
export class WebhookPush implements PushPort {
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly maxQueue: number;
  private readonly concurrency: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  /** Ready to be attempted, oldest first. */
  private readonly ready: Job[] = [];
  /** Timers of jobs waiting to be retried. */
  private readonly backingOff = new Map<NodeJS.Timeout, Job>();
  /** Attempts under way, so that close can abort them. */
  private readonly attempts = new Map<AbortController, Promise<void>>();
  /** Every job held: ready, in flight or backing off; bounded by maxQueue. */
  private held = 0;
  /** A pump is scheduled for the next turn of the event loop. */
  private pumping = false;
  private closed = false;

  constructor(
    private readonly options: WebhookPushOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.maxQueue = options.maxQueue ?? 10_000;
    this.concurrency = options.concurrency ?? 8;
    this.backoffMs = options.backoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
  }

  push(notification: PushNotification): boolean {
    if (this.closed || this.held >= this.maxQueue) {
      this.metrics.pushNotifications.inc({ outcome: 'dropped' });
      if (!this.closed) this.log.warn({ held: this.held }, 'push webhook queue full: notification dropped');
      return false;
    }
    this.held++;
    this.ready.push({ notification, body: JSON.stringify(notification), attempts: 0 });
    // Not now: starting a request (the first one loads the HTTP client) must not run on the caller's time.
    if (!this.pumping) {
      this.pumping = true;
      setImmediate(() => {
        this.pumping = false;
        this.pump();
      });
    }
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.backingOff.keys()) clearTimeout(timer);
    const abandoned = this.ready.length + this.backingOff.size;
    this.backingOff.clear();
    this.ready.length = 0;
    this.held -= abandoned;
    if (abandoned) this.metrics.pushNotifications.inc({ outcome: 'dropped' }, abandoned);
    for (const controller of this.attempts.keys()) controller.abort();
    await Promise.all(this.attempts.values());
  }

  /** Starts attempts while there is room for them. */
  private pump(): void {
    while (!this.closed && this.attempts.size < this.concurrency && this.ready.length > 0) {
      const job = this.ready.shift()!;
      const controller = new AbortController();
      const attempt = this.attempt(job, controller).finally(() => {
        this.attempts.delete(controller);
        this.pump();
      });
      this.attempts.set(controller, attempt);
    }
  }

  private async attempt(job: Job, controller: AbortController): Promise<void> {
    job.attempts++;
    const outcome = await this.post(job, controller);
    if (outcome.kind === 'sent') return this.settle('sent');
    if (this.closed) return this.settle('dropped');
    if (outcome.kind === 'retry' && job.attempts < this.maxAttempts) {
      this.metrics.pushRetries.inc();
      const timer = setTimeout(() => {
        this.backingOff.delete(timer);
        this.ready.push(job);
        this.pump();
      }, this.delay(job.attempts, outcome.retryAfterMs));
      this.backingOff.set(timer, job);
      return;
    }
    this.log.warn({ id: job.notification.id, attempts: job.attempts, reason: outcome.reason }, 'push webhook gave up on a notification');
    this.settle('failed');
  }

  private settle(outcome: 'sent' | 'failed' | 'dropped'): void {
    this.held--;
    this.metrics.pushNotifications.inc({ outcome });
  }

  /** One POST, its answer read (or abandoned) within the timeout. */
  private async post(job: Job, controller: AbortController): Promise<Outcome> {
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'im-server-push/1',
          [SIGNATURE_HEADER]: signature(this.options.secret, job.body, Math.floor(Date.now() / 1000)),
          'x-im-delivery': job.notification.id,
          'x-im-attempt': String(job.attempts),
        },
        body: job.body,
        signal: controller.signal,
        redirect: 'error',
      });
      // Read to the end, so that the connection goes back to the pool.
      await response.arrayBuffer();
      if (response.ok) return { kind: 'sent' };
      const reason = `HTTP ${response.status}`;
      if (![408, 425, 429].includes(response.status) && response.status < 500) return { kind: 'failed', reason };
      const retryAfter = Number(response.headers.get('retry-after'));
      return { kind: 'retry', reason, retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined };
    } catch (err) {
      return { kind: 'retry', reason: controller.signal.aborted ? `timed out after ${this.timeoutMs} ms` : String((err as Error).cause ?? err) };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Exponential back-off with full jitter (so that many notifications failed together do not retry together). */
  private delay(attempts: number, retryAfterMs = 0): number {
    const ceiling = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempts - 1));
    return Math.min(this.maxBackoffMs, Math.max(retryAfterMs, ceiling / 2 + Math.random() * (ceiling / 2)));
  }
}
