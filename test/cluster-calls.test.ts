import { befriend, ok, register, subscribe, type EventRecorder, type TestUser } from './support/client';
import { ACCEPT, CALL_EVENTS, callEvent, HANG_UP, INVITE, SIGNAL, SYNC } from './support/calls';
import { startNode, stopNode } from './support/cluster';
import { describeCluster, sleep, useCluster } from './support/cluster-suite';

const RING_SECONDS = 2;

describeCluster('calls across a cluster: caller and callee on different push nodes', () => {
  const cluster = useCluster('imcalls', { CALL_RING_TIMEOUT_SECONDS: String(RING_SECONDS) });
  const open: EventRecorder[] = [];
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    alice = await register(cluster.api(), 'calla');
    bob = await register(cluster.api(), 'callb');
    await befriend(cluster.api(), alice, bob);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
  });

  /** `user`'s call events on push node `i`. */
  const listen = async (i: number, user: TestUser) => {
    const recorder = await subscribe(cluster.push[i]!, user, CALL_EVENTS);
    open.push(recorder);
    return recorder;
  };
  const callMessages = async (user: TestUser, callId: string) =>
    ((await ok(cluster.api(), SYNC, undefined, user.token)).syncMessages.messages as any[]).filter((m) => m.type === 'CALL' && JSON.parse(m.content).callId === callId);

  it('should ring, answer, relay signals and hang up between two push nodes', async () => {
    const [onAlice, onBob] = await Promise.all([listen(0, alice), listen(1, bob)]);
    const call = (await ok(cluster.api(), INVITE, { u: bob.id, m: 'VIDEO' }, alice.token)).inviteCall;
    await onBob.next(callEvent('INVITED', call.id));
    await ok(cluster.api(), ACCEPT, { id: call.id }, bob.token);
    await onAlice.next(callEvent('ACCEPTED', call.id));
    await ok(cluster.api(), SIGNAL, { id: call.id, k: 'OFFER', p: 'v=0 across' }, alice.token);
    expect((await onBob.next(callEvent('SIGNAL', call.id))).signal).toEqual({ kind: 'OFFER', payload: 'v=0 across' });
    await ok(cluster.api(), SIGNAL, { id: call.id, k: 'ANSWER', p: 'v=0 back' }, bob.token);
    expect((await onAlice.next(callEvent('SIGNAL', call.id))).signal).toEqual({ kind: 'ANSWER', payload: 'v=0 back' });
    const ended = (await ok(cluster.api(), HANG_UP, { id: call.id }, alice.token)).hangUpCall;
    expect(ended.outcome).toBe('COMPLETED');
    await onBob.next(callEvent('ENDED', call.id));
    expect(await callMessages(bob, call.id)).toHaveLength(1);
  });

  it('should end an unanswered call as MISSED, once, after the platform node that took the invite died', async () => {
    const doomed = await startNode('platform-doomed', { ...cluster.env, IM_ROLE: 'platform', IM_WORKERS: '1' });
    try {
      const [onAlice, onBob] = await Promise.all([listen(0, alice), listen(1, bob)]);
      const call = (await ok(doomed, INVITE, { u: bob.id }, alice.token)).inviteCall;
      await onBob.next(callEvent('INVITED', call.id));
      await stopNode(doomed, 'SIGKILL');
      // The surviving platform node (two workers, both sweeping) ends it.
      const missed = await onAlice.next(callEvent('MISSED', call.id), (RING_SECONDS + 8) * 1000);
      expect(missed.call.outcome).toBe('MISSED');
      await onBob.next(callEvent('MISSED', call.id));
      // Time for a second sweeper to have ended it again, had the claim not been exclusive.
      await sleep(1500);
      expect(onAlice.events.filter(callEvent('MISSED', call.id))).toHaveLength(1);
      const messages = await callMessages(alice, call.id);
      expect(messages).toHaveLength(1);
      expect(JSON.parse(messages[0].content)).toMatchObject({ outcome: 'MISSED', durationSeconds: null });
    } finally {
      await stopNode(doomed, 'SIGKILL');
    }
  }, 30_000);
});
