/** Exponential backoff settings shared by reconnects and send retries. */
export interface BackoffOptions {
  /** The ceiling of the first wait, in ms. @default 500 */
  initialMs?: number;
  /** The largest ceiling, in ms. @default 30000 */
  maxMs?: number;
}

/**
 * The wait before retry number `attempt` (0 for the first): exponential with full jitter, a uniform random
 * time up to the ceiling, so that thousands of clients cut off together do not come back together.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initialMs = options.initialMs ?? 500;
  const maxMs = options.maxMs ?? 30_000;
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.random() * ceiling;
}

/** Resolves after `ms`, or at once when `signal` aborts (a closed client must not sit in a wait). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
