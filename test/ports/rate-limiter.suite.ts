import type { RateDecision, RateLimiter, RateLimiters } from '../../src/common/rate-limit/rate-limiter';

let unique = 0;
/** Keys unique per run, so that a limiter backed by a shared store never sees another run's counters. */
const key = (name: string) => `${name}:${process.pid}:${Date.now()}:${unique++}`;

/** Takes `n` attempts, which must all pass, and returns the refusal of the next one. */
async function exhaust(limiter: RateLimiter, k: string, n: number): Promise<RateDecision> {
  for (let i = 0; i < n; i++) expect((await limiter.consume(k)).allowed).toBe(true);
  const refused = await limiter.consume(k);
  expect(refused.allowed).toBe(false);
  expect(refused.retryAfterMs).toBeGreaterThan(0);
  return refused;
}

/**
 * The contract of the RateLimiters port (see src/common/rate-limit/rate-limiter.ts), for any implementation.
 * `factory` makes the limiters of a fresh store (or a fresh part of a shared one).
 */
export function rateLimiterSuite(name: string, factory: () => Promise<RateLimiters> | RateLimiters): void {
  describe(`RateLimiter contract: ${name}`, () => {
    const bursty = async (ratePerSecond: number, burst: number) => (await factory()).bursty('b', { ratePerSecond, burst });
    const window = async (points: number, durationSeconds: number) => (await factory()).window('w', { points, durationSeconds });

    it('should let the first `burst` attempts through and refuse the next with retryAfterMs > 0', async () => {
      const limiter = await bursty(5, 12);
      const k = key('burst');
      for (let i = 0; i < 12; i++) expect(await limiter.consume(k)).toEqual({ allowed: true, retryAfterMs: 0 });
      const refused = await limiter.consume(k);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(3000);
    });

    it('should never let more than `burst` concurrent attempts through', async () => {
      const limiter = await bursty(5, 12);
      const k = key('concurrent');
      const decisions = await Promise.all(Array.from({ length: 30 }, () => limiter.consume(k)));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(12);
      for (const d of decisions.filter((d) => !d.allowed)) expect(d.retryAfterMs).toBeGreaterThan(0);
    });

    it('should keep keys independent', async () => {
      const limiter = await bursty(2, 3);
      const [k1, k2] = [key('k1'), key('k2')];
      for (let i = 0; i < 3; i++) expect((await limiter.consume(k1)).allowed).toBe(true);
      expect((await limiter.consume(k1)).allowed).toBe(false);
      for (let i = 0; i < 3; i++) expect((await limiter.consume(k2)).allowed).toBe(true);
      expect((await limiter.consume(k2)).allowed).toBe(false);
      expect((await limiter.consume(k1)).allowed).toBe(false);
    });

    it('should work when burst equals the steady rate', async () => {
      const limiter = await bursty(4, 4);
      await exhaust(limiter, key('flat'), 4);
    });

    it('should allow again once refilled, after the advertised wait', async () => {
      const limiter = await bursty(2, 4);
      const k = key('refill');
      for (let i = 0; i < 4; i++) expect((await limiter.consume(k)).allowed).toBe(true);
      const refused = await limiter.consume(k);
      expect(refused.allowed).toBe(false);
      // Wait as told, repeatedly if need be (the steady window may refill before the burst pool does).
      const deadline = Date.now() + 6000;
      let again = refused;
      while (!again.allowed) {
        expect(again.retryAfterMs).toBeGreaterThan(0);
        if (Date.now() > deadline) throw new Error('the limiter never allowed again');
        await new Promise((r) => setTimeout(r, again.retryAfterMs + 20));
        again = await limiter.consume(k);
      }
      expect(again.allowed).toBe(true);
      // After a full quiet period of the refill time the whole burst is available again.
      await new Promise((r) => setTimeout(r, 2100));
      let passed = 0;
      for (let i = 0; i < 4; i++) if ((await limiter.consume(k)).allowed) passed++;
      expect(passed).toBe(4);
    }, 15000);

    it('should let `points` attempts of a window through, concurrent ones included, and refuse the rest until the window ends', async () => {
      const limiter = await window(5, 60);
      const k = key('window');
      const decisions = await Promise.all(Array.from({ length: 12 }, () => limiter.consume(k)));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
      for (const d of decisions.filter((d) => !d.allowed)) {
        expect(d.retryAfterMs).toBeGreaterThan(50_000);
        expect(d.retryAfterMs).toBeLessThanOrEqual(60_000);
      }
    });

    it('should give back refunded points, and not count refused attempts', async () => {
      const limiter = await window(3, 60);
      const k = key('refund');
      for (let i = 0; i < 3; i++) expect((await limiter.consume(k)).allowed).toBe(true);
      for (let i = 0; i < 4; i++) expect((await limiter.consume(k)).allowed).toBe(false);
      await limiter.refund(k);
      expect((await limiter.consume(k)).allowed).toBe(true);
      expect((await limiter.consume(k)).allowed).toBe(false);
    });

    it('should allow a whole window again once it has passed', async () => {
      const limiter = await window(2, 1);
      const k = key('window-refill');
      const refused = await exhaust(limiter, k, 2);
      await new Promise((r) => setTimeout(r, refused.retryAfterMs + 50));
      for (let i = 0; i < 2; i++) expect((await limiter.consume(k)).allowed).toBe(true);
    });

    it('should keep the counters of differently named limits apart', async () => {
      const limiters = await factory();
      const [first, second] = [limiters.window('first', { points: 1, durationSeconds: 60 }), limiters.window('second', { points: 1, durationSeconds: 60 })];
      const k = key('names');
      expect((await first.consume(k)).allowed).toBe(true);
      expect((await first.consume(k)).allowed).toBe(false);
      expect((await second.consume(k)).allowed).toBe(true);
    });
  });
}
