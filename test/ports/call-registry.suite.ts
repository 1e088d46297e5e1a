import { randomUUID } from 'node:crypto';
import type { CallRegistry, LiveCall } from '../../src/calls/call-registry';
import type { CallMedia } from '../../src/calls/call.types';

let unique = 0;
/** User ids unique per run, so that a registry backed by a shared store never sees another run's calls. */
const userId = () => `${process.pid}${Date.now() % 100000}${unique++}`;
const profile = (id: string) => ({ id, username: `u${id}`, nickname: 'n', avatarUrl: null, signature: null });

/** A fresh ringing call between two fresh users (or the given ones). */
function newCall(callerId = userId(), calleeId = userId()): LiveCall {
  return { id: randomUUID(), media: 'VIDEO' as CallMedia, state: 'RINGING', caller: profile(callerId), callee: profile(calleeId), callerSession: `s${callerId}`, createdAt: Date.now() };
}

const RING_MS = 60_000;

/**
 * The contract of the CallRegistry port (see src/calls/call-registry.ts), for any implementation. `factory`
 * makes a registry; two made by one factory must share their state, as two nodes on one Redis do.
 */
export function callRegistrySuite(name: string, factory: () => CallRegistry): void {
  describe(`CallRegistry contract: ${name}`, () => {
    let registry: CallRegistry;
    let other: CallRegistry;
    beforeEach(() => {
      registry = factory();
      other = factory();
    });

    it('should store a ringing call as invited and give it back to any node', async () => {
      const call = newCall();
      expect(await registry.ring(call, RING_MS)).toBeUndefined();
      expect(await other.get(call.id)).toEqual(call);
    });

    it('should refuse a second call of a busy caller or to a busy callee, saying who is busy', async () => {
      const first = newCall();
      await registry.ring(first, RING_MS);
      expect(await other.ring(newCall(first.caller.id), RING_MS)).toBe('CALLER_BUSY');
      expect(await other.ring(newCall(first.callee.id), RING_MS)).toBe('CALLER_BUSY');
      expect(await other.ring(newCall(undefined, first.callee.id), RING_MS)).toBe('CALLEE_BUSY');
      expect(await other.ring(newCall(undefined, first.caller.id), RING_MS)).toBe('CALLEE_BUSY');
    });

    it('should let exactly one of two invites racing for one callee ring', async () => {
      const calleeId = userId();
      const results = await Promise.all([registry.ring(newCall(undefined, calleeId), RING_MS), other.ring(newCall(undefined, calleeId), RING_MS)]);
      expect(results.filter((r) => r === undefined)).toHaveLength(1);
      expect(results.filter((r) => r === 'CALLEE_BUSY')).toHaveLength(1);
    });

    it('should accept once: of terminals accepting at once exactly one gets the connected call', async () => {
      const call = newCall();
      await registry.ring(call, RING_MS);
      const results = await Promise.all([registry.accept(call.id, 'tA', 1000), other.accept(call.id, 'tB', 1001), other.accept(call.id, 'tC', 1002)]);
      const winners = results.filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      expect(winners[0]).toMatchObject({ id: call.id, state: 'CONNECTED' });
      expect(await registry.get(call.id)).toEqual(winners[0]);
      expect(['tA', 'tB', 'tC']).toContain(winners[0]!.calleeSession);
    });

    it('should end a call once, free both parties, and forget it', async () => {
      const call = newCall();
      await registry.ring(call, RING_MS);
      await registry.accept(call.id, 'tA', 5000);
      const results = await Promise.all([registry.end(call.id), other.end(call.id)]);
      expect(results.filter((r) => r !== undefined)).toEqual([{ ...call, state: 'CONNECTED', calleeSession: 'tA', acceptedAt: 5000 }]);
      expect(await other.get(call.id)).toBeUndefined();
      expect(await registry.ring(newCall(call.caller.id, call.callee.id), RING_MS)).toBeUndefined();
    });

    it('should end only in the state asked for', async () => {
      const call = newCall();
      await registry.ring(call, RING_MS);
      await registry.accept(call.id, 'tA', 5000);
      expect(await registry.end(call.id, 'RINGING')).toBeUndefined();
      expect(await registry.get(call.id)).toMatchObject({ state: 'CONNECTED' });
      expect(await registry.end(call.id, 'CONNECTED')).toMatchObject({ state: 'CONNECTED' });
    });

    it('should not accept a call that ended', async () => {
      const call = newCall();
      await registry.ring(call, RING_MS);
      await registry.end(call.id);
      expect(await other.accept(call.id, 'tA', 1)).toBeUndefined();
    });

    it('should hand each expired ringing call to exactly one sweeping node, and free its parties', async () => {
      const due = [newCall(), newCall(), newCall()];
      const later = newCall();
      for (const call of due) await registry.ring(call, 50);
      await registry.ring(later, RING_MS);
      await new Promise((r) => setTimeout(r, 120));
      const [a, b] = await Promise.all([registry.expired(Date.now()), other.expired(Date.now())]);
      const claimed = [...a, ...b].map((c) => c.id).sort();
      expect(claimed).toEqual(due.map((c) => c.id).sort());
      expect(await registry.get(later.id)).toBeDefined();
      expect(await registry.ring(newCall(due[0]!.caller.id, due[0]!.callee.id), RING_MS)).toBeUndefined();
    });

    it('should not expire a call once accepted', async () => {
      const call = newCall();
      await registry.ring(call, 50);
      await registry.accept(call.id, 'tA', Date.now());
      await new Promise((r) => setTimeout(r, 120));
      expect((await registry.expired(Date.now())).map((c) => c.id)).not.toContain(call.id);
      expect(await registry.get(call.id)).toMatchObject({ state: 'CONNECTED' });
    });

    it('should not expire a call before its deadline', async () => {
      const call = newCall();
      await registry.ring(call, RING_MS);
      expect((await registry.expired(Date.now())).map((c) => c.id)).not.toContain(call.id);
    });
  });
}
