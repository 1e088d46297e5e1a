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

/** What the suite may expect of an implementation beyond the port's common contract. */
export interface SuiteOptions {
  /**
   * True when a node's recipients of one delivery arrive in one envelope (the queue modes); false when the
   * engine may split them (the pubsub mode sends one message per recipient). @default true
   */
  oneEnvelopePerNode?: boolean;
}

/** Every user named by a list of envelopes, sorted (a user twice would show twice). */
const usersOf = (envelopes: Envelope[]): string[] => envelopes.flatMap((e) => e.users).sort();

/**
 * The contract of the DeliveryEngine port (see src/delivery/delivery.ts), for any implementation.
 * `factory` makes two fresh engines on a shared transport; the suite closes them after each test.
 */
export function deliveryEngineSuite(name: string, factory: () => Promise<EnginePair>, options: SuiteOptions = {}): void {
  const batched = options.oneEnvelopePerNode ?? true;
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

    it('should have distinct node ids and be ready', async () => {
      expect(a.nodeId).not.toBe(b.nodeId);
      expect(await a.ready()).toBe(true);
      expect(await b.ready()).toBe(true);
    });

    it('should report the first terminal anywhere on attach and the last on detach', async () => {
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

    it('should keep the newer record when a stale connection id detaches', async () => {
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

    it('should route both connections of one terminal (two tabs), whichever closes first', async () => {
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

    it('should count as online only users with a live terminal on some node', async () => {
      const [u1, u2, u3] = [uid('u'), uid('u'), uid('u')];
      await a.attach({ userId: u1, terminal: 'WEB', connectionId: 'c1' });
      await b.attach({ userId: u2, terminal: 'APP', connectionId: 'c2' });
      expect(await a.online([u1, u2, u3])).toEqual(new Set([u1, u2]));
      expect(await b.online([u1, u2, u3])).toEqual(new Set([u1, u2]));
      expect(await a.online([])).toEqual(new Set());
      await b.detach({ userId: u2, terminal: 'APP', connectionId: 'c2' });
      expect(await a.online([u1, u2, u3])).toEqual(new Set([u1]));
    });

    it('should tell `routed` which recipients are online, before any node gets the event', async () => {
      const [on1, on2, off] = [uid('on'), uid('on'), uid('off')];
      await a.attach({ userId: on1, terminal: 'WEB', connectionId: 'r1' });
      await b.attach({ userId: on2, terminal: 'WEB', connectionId: 'r2' });
      const seen: Array<ReadonlySet<string>> = [];
      const payload = { __typename: 'TypingEvent', conversationId: '7', user: { id: on1, online: undefined as boolean | undefined } } as any;
      await a.deliver([on1, on2, off], { event: payload }, (online) => {
        seen.push(online);
        // What the caller fills in here is what every node receives.
        payload.user.online = online.has(on1);
      });
      expect(seen).toEqual([new Set([on1, on2])]);
      await eventually(() => gotA.length > 0 && gotB.length > 0, 3000, 'both nodes got the event');
      for (const envelope of [...gotA, ...gotB]) expect((envelope.event as any).user.online).toBe(true);
    });

    it(`should deliver ${batched ? 'one envelope per node, listing' : 'to each node exactly'} that node’s recipients, and nothing to offline users`, async () => {
      const [a1, a2, b1, both, off] = [uid('a1'), uid('a2'), uid('b1'), uid('both'), uid('off')];
      await a.attach({ userId: a1, terminal: 'WEB', connectionId: 'x1' });
      await a.attach({ userId: a2, terminal: 'WEB', connectionId: 'x2' });
      await a.attach({ userId: a2, terminal: 'APP', connectionId: 'x3' });
      await b.attach({ userId: b1, terminal: 'WEB', connectionId: 'x4' });
      await a.attach({ userId: both, terminal: 'WEB', connectionId: 'x5' });
      await b.attach({ userId: both, terminal: 'APP', connectionId: 'x6' });
      const delivery = { event: event(7), exceptSession: 's1' };
      await a.deliver([a1, a2, b1, both, off, a1], delivery);
      await eventually(() => usersOf(gotA).length >= 3 && usersOf(gotB).length >= 2, 3000, 'the recipients on each node');
      await settle();
      if (batched) {
        expect(gotA).toHaveLength(1);
        expect(gotB).toHaveLength(1);
      }
      expect(usersOf(gotA)).toEqual([a1, a2, both].sort());
      expect(usersOf(gotB)).toEqual([b1, both].sort());
      for (const envelope of [...gotA, ...gotB]) {
        expect(envelope.event).toEqual(delivery.event);
        expect(envelope.exceptSession).toBe('s1');
        expect(envelope.users).not.toContain(off);
      }
    });

    it('should deliver across nodes in either direction, and to nobody when all are offline', async () => {
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

    it('should hand a node its envelopes in the order enqueued', async () => {
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

    it('should keep call order for deliveries not awaited one by one', async () => {
      const ub = uid('ub');
      await b.attach({ userId: ub, terminal: 'WEB', connectionId: 'c2' });
      const n = 100;
      const calls: Promise<void>[] = [];
      for (let i = 0; i < n; i++) calls.push(a.deliver([ub], { event: event(i) }));
      await Promise.all(calls);
      await eventually(() => gotB.length === n, 5000, `${n} envelopes`);
      expect(gotB.map((e) => Number((e.event as any).conversationId))).toEqual(Array.from({ length: n }, (_, i) => i));
    });

    it('should remove the node’s records and stop its consumer on close', async () => {
      const [ua, ub, shared] = [uid('ua'), uid('ub'), uid('shared')];
      await a.attach({ userId: ua, terminal: 'WEB', connectionId: 'c1' });
      await a.attach({ userId: shared, terminal: 'WEB', connectionId: 'c2' });
      await b.attach({ userId: ub, terminal: 'WEB', connectionId: 'c3' });
      await b.attach({ userId: shared, terminal: 'APP', connectionId: 'c4' });
      await a.close();
      expect(await b.online([ua, ub, shared])).toEqual(new Set([ub, shared]));
      await b.deliver([ua, ub, shared], { event: event(1) });
      await eventually(() => usersOf(gotB).length === 2, 3000, 'delivery to the surviving node');
      await settle();
      expect(gotA).toHaveLength(0);
      expect(usersOf(gotB)).toEqual([ub, shared].sort());
      // a's record of `shared` is gone, so b's terminal is its last one.
      expect(await b.detach({ userId: shared, terminal: 'APP', connectionId: 'c4' })).toBe(true);
      await b.close();
      closed = true;
    });
  });
}
