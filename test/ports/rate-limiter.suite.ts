import type { RateLimiter, RateLimitOptions } from '../../src/common/rate-limit/rate-limiter';

let unique = 0;
/** Keys unique per run, so that a limiter backed by a shared store never sees another run's counters. */
const key = (name: string) => `${name}:${process.pid}:${Date.now()}:${unique++}`;

/**
 * The contract of the RateLimiter port (see src/common/rate-limit/rate-limiter.ts), for any implementation.
 * `factory` makes a limiter with the given limits.
 */
export function rateLimiterSuite(name: string, factory: (options: RateLimitOptions) => Promise<RateLimiter> | RateLimiter): void {
  describe(`RateLimiter contract: ${name}`, () => {
    it('should let the first `burst` attempts through and refuse the next with retryAfterMs > 0', async () => {
      const limiter = await factory({ ratePerSecond: 5, burst: 12 });
      const k = key('burst');
      for (let i = 0; i < 12; i++) expect(await limiter.consume(k)).toEqual({ allowed: true, retryAfterMs: 0 });
      const refused = await limiter.consume(k);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(3000);
    });

    it('should never let more than `burst` concurrent attempts through', async () => {
      const limiter = await factory({ ratePerSecond: 5, burst: 12 });
      const k = key('concurrent');
      const decisions = await Promise.all(Array.from({ length: 30 }, () => limiter.consume(k)));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(12);
      for (const d of decisions.filter((d) => !d.allowed)) expect(d.retryAfterMs).toBeGreaterThan(0);
    });

    it('should keep keys independent', async () => {
      const limiter = await factory({ ratePerSecond: 2, burst: 3 });
      const [k1, k2] = [key('k1'), key('k2')];
      for (let i = 0; i < 3; i++) expect((await limiter.consume(k1)).allowed).toBe(true);
      expect((await limiter.consume(k1)).allowed).toBe(false);
      for (let i = 0; i < 3; i++) expect((await limiter.consume(k2)).allowed).toBe(true);
      expect((await limiter.consume(k2)).allowed).toBe(false);
      expect((await limiter.consume(k1)).allowed).toBe(false);
    });

    it('should work when burst equals the steady rate', async () => {
      const limiter = await factory({ ratePerSecond: 4, burst: 4 });
      const k = key('flat');
      for (let i = 0; i < 4; i++) expect((await limiter.consume(k)).allowed).toBe(true);
      const refused = await limiter.consume(k);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeGreaterThan(0);
    });

    it('should allow again once refilled, after the advertised wait', async () => {
      const limiter = await factory({ ratePerSecond: 2, burst: 4 });
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
  });
}
