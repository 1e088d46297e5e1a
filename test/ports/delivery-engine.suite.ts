import type { DeliveryEngine, Envelope } from '../../src/delivery/delivery';

/** Two engines that see each other, as two nodes of one cluster. */
export interface EnginePair {
  a: DeliveryEngine;
  b: DeliveryEngine;
  /** Releases whatever the factory set up besides the engines (connections, keys). Optional. */
  cleanup?(): Promise<void>;
}

/** Waits until `condition` holds, polling; fails after `timeoutMs`. */
export async function eventually(condition: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets any delivery that would (wrongly) arrive have the chance to. */
const settle = (ms = 100) => new Promise((r) => setTimeout(r, ms));

let unique = 0;
/** User ids unique per run, so that an engine backed by a shared store never sees another run's records. */
const uid = (name: string) => `${name}-${process.pid}-${Date.now()}-${unique++}`;

const event = (n: number) => ({ __typename: 'TypingEvent', conversationId: String(n), user: { id: '1' } }) as any;

/**
 * The contract of the DeliveryEngine port (see src/delivery/delivery.ts), for any implementation.
 * `factory` makes two fresh engines on a shared transport; the suite closes them after each test.
 */
export function deliveryEngineSuite(name: string, factory: () => Promise<EnginePair>): void {
  describe(`DeliveryEngine contract: ${name}`, () => {
    let pair: EnginePair;
    let a: DeliveryEngine;
    let b: DeliveryEngine;
    let gotA: Envelope[];
    let gotB: Envelope[];
    let closed: boolean;

    beforeEach(async () => {
      pair = await factory();
      ({ a, b } = pair);
      closed = false;
      gotA = [];
      gotB = [];
      await a.consume((e) => gotA.push(e));
      await b.consume((e) => gotB.push(e));
    });

    afterEach(async () => {
      if (!closed) {
        await a.close();
        await b.close();
      }
      await pair.cleanup?.();
    });

    it('has distinct node ids and is ready', async () => {
      expect(a.nodeId).not.toBe(b.nodeId);
      expect(await a.ready()).toBe(true);
      expect(await b.ready()).toBe(true);
    });

    it('attach is true only for the first terminal anywhere, detach only for the last', async () => {
      const u = uid('u');
      expect(await a.attach({ userId: u, terminal: 'WEB', connectionId: 'c1' })).toBe(true);
      expect(await b.attach({ userId: u, terminal: 'APP', connectionId: 'c2' })).toBe(false);
      expect(await a.attach({ userId: u, terminal: 'PC', connectionId: 'c3' })).toBe(false);
      expect(await a.detach({ userId: u, terminal: 'WEB', connectionId: 'c1' })).toBe(false);
      expect(await a.detach({ userId: u, terminal: 'PC', connectionId: 'c3' })).toBe(false);
      expect(await b.detach({ userId: u, terminal: 'APP', connectionId: 'c2' })).toBe(true);
      // Online again afterwards: a new first terminal.
      expect(await b.attach({ userId: u, terminal: 'APP', connectionId: 'c4' })).toBe(true);
      expect(await b.detach({ userId: u, terminal: 'APP', connectionId: 'c4' })).toBe(true);
    });

    it('a detach by a stale connection id does not remove the newer record', async () => {
      const u = uid('u');
      expect(await a.attach({ userId: u, terminal: 'WEB', connectionId: 'old' })).toBe(true);
      // The same terminal reconnects (on the other node) before the old socket's close is processed.
      expect(await b.attach({ userId: u, terminal: 'WEB', connectionId: 'new' })).toBe(false);
      expect(await a.detach({ userId: u, terminal: 'WEB', connectionId: 'old' })).toBe(false);
      expect(await a.online([u])).toEqual(new Set([u]));
      await a.deliver([u], { event: event(1) });
      await eventually(() => gotB.length === 1, 3000, 'delivery to the newer record');
      await settle();
      expect(gotA).toHaveLength(0);
      expect(await b.detach({ userId: u, terminal: 'WEB', connectionId: 'new' })).toBe(true);
      expect(await a.online([u])).toEqual(new Set());
    });

    it('two connections of one terminal (two tabs) are both routed; either may go first', async () => {
      const u = uid('u');
      expect(await a.attach({ userId: u, terminal: 'WEB', connectionId: 'tab1' })).toBe(true);
      expect(await b.attach({ userId: u, terminal: 'WEB', connectionId: 'tab2' })).toBe(false);
      expect(await b.detach({ userId: u, terminal: 'WEB', connectionId: 'tab2' })).toBe(false);
      expect(await b.online([u])).toEqual(new Set([u]));
      await b.deliver([u], { event: event(1) });
      await eventually(() => gotA.length === 1, 3000, 'delivery to the remaining tab');
      expect(gotA[0]!.users).toEqual([u]);
      // A repeated detach of a connection already gone announces nothing.
      expect(await b.detach({ userId: u, terminal: 'WEB', connectionId: 'tab2' })).toBe(false);
      expect(await a.detach({ userId: u, terminal: 'WEB', connectionId: 'tab1' })).toBe(true);
      expect(await a.detach({ userId: u, terminal: 'WEB', connectionId: 'tab1' })).toBe(false);
      expect(await a.online([u])).toEqual(new Set());
    });

    it('online() returns the subset with a live terminal on any node', async () => {
      const [u1, u2, u3] = [uid('u'), uid('u'), uid('u')];
      await a.attach({ userId: u1, terminal: 'WEB', connectionId: 'c1' });
      await b.attach({ userId: u2, terminal: 'APP', connectionId: 'c2' });
      expect(await a.online([u1, u2, u3])).toEqual(new Set([u1, u2]));
      expect(await b.online([u1, u2, u3])).toEqual(new Set([u1, u2]));
      expect(await a.online([])).toEqual(new Set());
      await b.detach({ userId: u2, terminal: 'APP', connectionId: 'c2' });
      expect(await a.online([u1, u2, u3])).toEqual(new Set([u1]));
    });

    it('deliver sends one envelope per node, listing that node’s recipients; offline users get nothing', async () => {
      const [a1, a2, b1, both, off] = [uid('a1'), uid('a2'), uid('b1'), uid('both'), uid('off')];
      await a.attach({ userId: a1, terminal: 'WEB', connectionId: 'x1' });
      await a.attach({ userId: a2, terminal: 'WEB', connectionId: 'x2' });
      await a.attach({ userId: a2, terminal: 'APP', connectionId: 'x3' });
      await b.attach({ userId: b1, terminal: 'WEB', connectionId: 'x4' });
      await a.attach({ userId: both, terminal: 'WEB', connectionId: 'x5' });
      await b.attach({ userId: both, terminal: 'APP', connectionId: 'x6' });
      const delivery = { event: event(7), exceptSession: 's1' };
      await a.deliver([a1, a2, b1, both, off, a1], delivery);
      await eventually(() => gotA.length >= 1 && gotB.length >= 1, 3000, 'an envelope on each node');
      await settle();
      expect(gotA).toHaveLength(1);
      expect(gotB).toHaveLength(1);
      expect([...gotA[0]!.users].sort()).toEqual([a1, a2, both].sort());
      expect([...gotB[0]!.users].sort()).toEqual([b1, both].sort());
      for (const envelope of [gotA[0]!, gotB[0]!]) {
        expect(envelope.event).toEqual(delivery.event);
        expect(envelope.exceptSession).toBe('s1');
        expect(envelope.users).not.toContain(off);
      }
    });

    it('delivers across nodes in either direction and to nobody when all are offline', async () => {
      const [ua, ub] = [uid('ua'), uid('ub')];
      await a.attach({ userId: ua, terminal: 'WEB', connectionId: 'c1' });
      await b.attach({ userId: ub, terminal: 'WEB', connectionId: 'c2' });
      await b.deliver([ua], { event: event(1), onlySession: 'sess', closeCode: 4403 });
      await a.deliver([ub], { event: event(2) });
      await eventually(() => gotA.length === 1 && gotB.length === 1, 3000, 'cross-node deliveries');
      expect(gotA[0]).toMatchObject({ users: [ua], event: event(1), onlySession: 'sess', closeCode: 4403 });
      expect(gotB[0]).toMatchObject({ users: [ub], event: event(2) });
      await a.deliver([uid('nobody'), uid('nobody')], { event: event(3) });
      await settle();
      expect(gotA).toHaveLength(1);
      expect(gotB).toHaveLength(1);
    });

    it('envelopes for one node arrive in the order enqueued', async () => {
      const [ua, ub] = [uid('ua'), uid('ub')];
      await a.attach({ userId: ua, terminal: 'WEB', connectionId: 'c1' });
      await b.attach({ userId: ub, terminal: 'WEB', connectionId: 'c2' });
      const n = 200;
      for (let i = 0; i < n; i++) await a.deliver([ua, ub], { event: event(i) });
      await eventually(() => gotA.length === n && gotB.length === n, 5000, `${n} envelopes on each node`);
      const order = (got: Envelope[]) => got.map((e) => Number((e.event as any).conversationId));
      const expected = Array.from({ length: n }, (_, i) => i);
      expect(order(gotA)).toEqual(expected);
      expect(order(gotB)).toEqual(expected);
    });

    it('envelopes enqueued without awaiting each other still arrive in call order', async () => {
      const ub = uid('ub');
      await b.attach({ userId: ub, terminal: 'WEB', connectionId: 'c2' });
      const n = 100;
      const calls: Promise<void>[] = [];
      for (let i = 0; i < n; i++) calls.push(a.deliver([ub], { event: event(i) }));
      await Promise.all(calls);
      await eventually(() => gotB.length === n, 5000, `${n} envelopes`);
      expect(gotB.map((e) => Number((e.event as any).conversationId))).toEqual(Array.from({ length: n }, (_, i) => i));
    });

    it('close() removes the node’s records and stops its consumer', async () => {
      const [ua, ub, shared] = [uid('ua'), uid('ub'), uid('shared')];
      await a.attach({ userId: ua, terminal: 'WEB', connectionId: 'c1' });
      await a.attach({ userId: shared, terminal: 'WEB', connectionId: 'c2' });
      await b.attach({ userId: ub, terminal: 'WEB', connectionId: 'c3' });
      await b.attach({ userId: shared, terminal: 'APP', connectionId: 'c4' });
      await a.close();
      expect(await b.online([ua, ub, shared])).toEqual(new Set([ub, shared]));
      await b.deliver([ua, ub, shared], { event: event(1) });
      await eventually(() => gotB.length === 1, 3000, 'delivery to the surviving node');
      await settle();
      expect(gotA).toHaveLength(0);
      expect([...gotB[0]!.users].sort()).toEqual([ub, shared].sort());
      // a's record of `shared` is gone, so b's terminal is its last one.
      expect(await b.detach({ userId: shared, terminal: 'APP', connectionId: 'c4' })).toBe(true);
      await b.close();
      closed = true;
    });
  });
}
