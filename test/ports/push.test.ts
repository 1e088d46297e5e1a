import { createLogger } from '../../src/common/logger';
import { Metrics } from '../../src/metrics/metrics';
import type { PushNotification } from '../../src/notifications/push';
import { MemoryPush } from '../../src/notifications/push.memory';
import { WebhookPush, type WebhookPushOptions } from '../../src/notifications/push.webhook';
import { eventually } from '../support/wait';
import { startReceiver, verifySignature, type WebhookReceiver } from '../support/webhook-receiver';
import { pushSuite, sample } from './push.suite';

const log = createLogger('silent');
const SECRET = 'a-webhook-secret-for-tests';

pushSuite('memory', async (metrics) => {
  const port = new MemoryPush(metrics, log);
  const seen: PushNotification[] = [];
  port.subscribe((n) => seen.push(n));
  return {
    port,
    metrics,
    arrived: async (n) => {
      await eventually(() => seen.length >= n);
      return seen;
    },
    close: () => port.close(),
  };
});

pushSuite('webhook', async (metrics) => {
  const receiver = await startReceiver();
  const port = new WebhookPush({ url: receiver.url, secret: SECRET }, metrics, log);
  return {
    port,
    metrics,
    arrived: async (n) => {
      await eventually(() => new Set(receiver.hooks.map((h) => h.body.id)).size >= n);
      return receiver.hooks.map((h) => h.body);
    },
    close: async () => {
      await port.close();
      await receiver.close();
    },
  };
});

describe('WebhookPush', () => {
  let receiver: WebhookReceiver;
  let metrics: Metrics;
  let port: WebhookPush;
  const open = (options: Partial<WebhookPushOptions> = {}) => {
    port = new WebhookPush({ url: receiver.url, secret: SECRET, backoffMs: 50, ...options }, metrics, log);
    return port;
  };
  const count = (outcome: string) => metrics.value('im_push_notifications_total', { outcome });
  beforeEach(async () => {
    receiver = await startReceiver();
    metrics = new Metrics();
  });
  afterEach(async () => {
    await port?.close();
    await receiver.close();
  });

  it('should POST JSON with a signature over "<t>.<raw body>" that verifies with the secret, and with the delivery id', async () => {
    const notification = sample();
    open().push(notification);
    const hook = await receiver.next(() => true);
    expect(hook.headers['content-type']).toBe('application/json');
    expect(hook.headers['x-im-delivery']).toBe(notification.id);
    expect(hook.headers['x-im-attempt']).toBe('1');
    expect(verifySignature(SECRET, hook.headers['x-im-signature'] as string, hook.raw)).toBe(true);
    expect(verifySignature('another-secret-entirely', hook.headers['x-im-signature'] as string, hook.raw)).toBe(false);
    expect(verifySignature(SECRET, hook.headers['x-im-signature'] as string, hook.raw.replace('Alice', 'Mallory'))).toBe(false);
    const t = Number(/^t=(\d+),/.exec(hook.headers['x-im-signature'] as string)![1]);
    expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(5);
  });

  it('should retry a 500 with the same id and count it sent once a 200 comes', async () => {
    receiver.answer = (_hook, i) => (i === 0 ? 500 : 200);
    open().push(sample());
    await eventually(async () => (await count('sent')) === 1);
    expect(receiver.hooks).toHaveLength(2);
    expect(receiver.hooks[1]!.body.id).toBe(receiver.hooks[0]!.body.id);
    expect(receiver.hooks.map((h) => h.headers['x-im-attempt'])).toEqual(['1', '2']);
    expect(await metrics.value('im_push_retries_total')).toBe(1);
  });

  it('should give up after maxAttempts, and not retry an answer such as 400 at all', async () => {
    receiver.answer = (hook) => (hook.body.userId === 'bad' ? 400 : 503);
    open({ maxAttempts: 3 });
    port.push(sample({ userId: 'bad' }));
    port.push(sample({ userId: 'busy' }));
    await eventually(async () => (await count('failed')) === 2);
    expect(receiver.hooks.filter((h) => h.body.userId === 'bad')).toHaveLength(1);
    expect(receiver.hooks.filter((h) => h.body.userId === 'busy')).toHaveLength(3);
    expect(await count('sent')).toBe(0);
  });

  it('should abort an attempt that hangs after the timeout and try again', async () => {
    receiver.answer = (_hook, i) => (i === 0 ? 'hang' : 200);
    open({ timeoutMs: 300 });
    const started = Date.now();
    port.push(sample());
    await eventually(async () => (await count('sent')) === 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(receiver.hooks).toHaveLength(2);
  });

  it('should hold at most maxQueue notifications and drop the rest while the receiver is stuck', async () => {
    receiver.answer = () => 'hang';
    open({ maxQueue: 5, concurrency: 2, timeoutMs: 60_000 });
    const accepted = Array.from({ length: 8 }, () => port.push(sample())).filter(Boolean).length;
    expect(accepted).toBe(5);
    expect(await count('dropped')).toBe(3);
    await eventually(() => receiver.hooks.length === 2);
  });
});
