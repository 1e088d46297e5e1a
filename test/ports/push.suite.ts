import { Metrics } from '../../src/metrics/metrics';
import type { PushNotification, PushPort } from '../../src/notifications/push';
import { eventually } from '../support/wait';

/** An adapter under test, with a way to see what reached its far side. */
export interface PushRig {
  port: PushPort;
  metrics: Metrics;
  /** Resolves with the notifications that arrived, once at least `n` distinct ids did. */
  arrived(n: number): Promise<PushNotification[]>;
  close(): Promise<void>;
}

let unique = 0;
/** A notification as the service builds one. */
export const sample = (overrides: Partial<PushNotification> = {}): PushNotification => ({
  id: `n-${process.pid}-${unique++}`,
  kind: 'MESSAGE',
  userId: '7',
  conversationId: '3',
  conversationType: 'PRIVATE',
  count: 2,
  mentioned: false,
  message: { id: '11', seq: 4, type: 'TEXT', text: 'héllo 👋', sender: { id: '5', nickname: 'Alice' }, createdAt: new Date(0).toISOString() },
  createdAt: new Date().toISOString(),
  ...overrides,
});

/** The contract of the PushPort (see src/notifications/push.ts), for any adapter. */
export function pushSuite(name: string, rig: (metrics: Metrics) => Promise<PushRig>): void {
  describe(`PushPort contract: ${name}`, () => {
    let r: PushRig;
    beforeEach(async () => {
      r = await rig(new Metrics());
    });
    afterEach(() => r.close());

    it('should accept a notification without waiting and deliver it unchanged', async () => {
      const notification = sample();
      const started = performance.now();
      expect(r.port.push(notification)).toBe(true);
      expect(performance.now() - started).toBeLessThan(50);
      expect(await r.arrived(1)).toEqual([notification]);
      // The far side may have it a moment before the adapter has read the answer.
      await eventually(async () => (await r.metrics.value('im_push_notifications_total', { outcome: 'sent' })) === 1, 5000, 'sent counted');
    });

    it('should deliver every one of many notifications at least once', async () => {
      const many = Array.from({ length: 50 }, (_, i) => sample({ userId: String(100 + i) }));
      for (const n of many) expect(r.port.push(n)).toBe(true);
      const got = await r.arrived(50);
      expect(new Set(got.map((n) => n.id))).toEqual(new Set(many.map((n) => n.id)));
    });

    it('should refuse (and count as dropped) what is pushed after close', async () => {
      await r.port.close();
      expect(r.port.push(sample())).toBe(false);
      expect(await r.metrics.value('im_push_notifications_total', { outcome: 'dropped' })).toBe(1);
    });
  });
}
