import { describeCluster, useCluster } from './support/cluster-suite';
import { expectEveryMessageOnceInOrder, sdkUsers, sendMany } from './support/sdk';
import { eventually } from './support/wait';

describeCluster('the client SDK on a cluster: a push node stopped mid-stream', () => {
  const cluster = useCluster('imsdk', { RATE_LIMIT_MESSAGES_PER_SECOND: '5000', RATE_LIMIT_MESSAGES_BURST: '5000' });
  // HTTP to the platform, WebSocket to the first push node unless a test picks another.
  const users = sdkUsers(() => ({ url: cluster.platform.url, wsUrl: cluster.push[0]!.wsUrl }));

  it('should reconnect to another node after a SIGTERM and hand the app every one of 300 messages once, in order', async () => {
    const doomed = await cluster.startPush('push-sdk');
    let live = doomed;
    const alice = await users.signUp('alice');
    // As behind a load balancer: each connection attempt goes to a node that is up.
    const bob = await users.signUp('bob', { wsUrl: () => live.wsUrl });
    await users.befriend(alice, bob);
    const closes: string[] = [];
    bob.sdk.on('state', (state) => closes.push(state));
    const sent = await sendMany(alice.sdk, bob.id, 300, async (n) => {
      if (n !== 100) return;
      live = cluster.push[1]!;
      doomed.child.kill('SIGTERM');
      await doomed.exited;
    });
    await eventually(() => bob.messages.length >= 300, 15_000, 'all 300 messages');
    expectEveryMessageOnceInOrder(bob.messages, sent);
    expectEveryMessageOnceInOrder(alice.messages, sent);
    expect(closes).toContain('reconnecting');
    expect(doomed.child.exitCode).toBe(0);
  });
});
