import { befriend, ok, register, type EventRecorder, type TestUser } from './support/client';
import type { NodeProcess } from './support/cluster';
import { describeCluster, eventually, useCluster } from './support/cluster-suite';

/** What the issue promises: a push node that died is routed around, cleaned up and announced within this. */
const NOTICED_WITHIN_MS = 15_000;

/** `promise`, or a failure naming `what` after `timeoutMs`. */
const within = <T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not happen within ${timeoutMs} ms`)), timeoutMs);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
const presence = (userId: string, online: boolean) => (e: any) => e.__typename === 'PresenceEvent' && e.user.id === userId && e.online === online;
const messageTo = (id: string) => (e: any) => e.__typename === 'MessageEvent' && e.message.id === id;
const messageIds = (events: EventRecorder) => events.events.filter((e) => e.__typename === 'MessageEvent').map((e) => e.message.id);

describeCluster.each(['queue', 'pubsub'])('push node liveness in %s mode', (mode) => {
  const cluster = useCluster(
    `imlive:${mode}`,
    {
      IM_DELIVERY: mode,
      // Records outlive the test: whatever goes offline here does so through node liveness, not their TTL.
      ROUTE_TTL_SECONDS: '300',
      ROUTE_RENEW_SECONDS: '60',
      // Short enough to notice a death well within the 15 s, long enough that a loaded machine's stalls are no death.
      NODE_LIVENESS_TTL_SECONDS: '5',
      NODE_LIVENESS_RENEW_SECONDS: '1',
    },
    1,
  );
  const { keyPrefix, listen, isOnline, catchUp } = cluster;
  const api = () => cluster.api();
  const survivor = () => cluster.push[0]!;
  const sendText = async (from: TestUser, to: TestUser, content: string) => (await cluster.sendText(from, to, content)).id;
  const cursorOf = async (user: TestUser): Promise<string> => (await ok(api(), `{ syncMessages { cursor } }`, undefined, user.token)).syncMessages.cursor;
  /** The routing-record values of a user that name `node`. */
  const routesOn = async (user: TestUser, node: NodeProcess): Promise<string[]> =>
    (await cluster.redis.hvals(`${keyPrefix}route:${user.id}`)).filter((value) => value.startsWith(`${node.nodeId}|`));

  it('should route around a SIGKILLed push node within 15 s, remove its queue and records, announce its users offline, and lose nothing for those who reconnect', async () => {
    const victim = await cluster.startPush('push-victim');
    const [alice, bob, carol] = [await register(api(), 'alice'), await register(api(), 'bob'), await register(api(), 'carol')];
    await befriend(api(), bob, alice);
    await befriend(api(), bob, carol);
    const from = await cursorOf(alice);
    const bobEvents = await listen(survivor(), bob);
    const aliceFirst = await listen(victim, alice);
    await listen(victim, carol);
    await eventually(async () => (await isOnline(bob, alice.id)) && (await isOnline(bob, carol.id)), 'alice and carol online');
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) sent.push(await sendText(bob, alice, `before ${i}`));
    await aliceFirst.next(messageTo(sent[2]!));

    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.exited;
    // Carol comes back on the other node at once; alice stays away until the platform has given up on her.
    await listen(survivor(), carol);
    sent.push(await sendText(bob, alice, 'while the victim still counts'));
    const queue = `${keyPrefix}unread:${victim.nodeId}`;
    // Queue mode pushes onto the dead node's queue until its liveness key runs out: what the check below would see.
    if (mode === 'queue') expect(await cluster.redis.llen(queue)).toBeGreaterThan(0);

    await bobEvents.next(presence(alice.id, false), NOTICED_WITHIN_MS);
    expect(Date.now() - killedAt).toBeLessThan(NOTICED_WITHIN_MS);
    expect(await isOnline(bob, alice.id)).toBe(false);
    expect(await cluster.redis.exists(`${keyPrefix}route:${alice.id}`)).toBe(0);
    expect(await cluster.redis.exists(queue)).toBe(0);
    await eventually(async () => (await cluster.redis.exists(`${keyPrefix}node-users:${victim.nodeId}`)) === 0, 'the dead node’s user set removed');
    // Carol has a live connection elsewhere: no offline for her, and only her old record is gone.
    expect(await routesOn(carol, victim)).toEqual([]);
    expect(await routesOn(carol, survivor())).toHaveLength(1);
    expect(await isOnline(bob, carol.id)).toBe(true);

    sent.push(await sendText(bob, alice, 'after the victim was found dead'));
    expect(await cluster.redis.exists(queue)).toBe(0);

    const aliceAgain = await listen(survivor(), alice);
    // Her first terminal again: bob hears she is back (the first time was when she joined the victim).
    await eventually(async () => bobEvents.events.filter(presence(alice.id, true)).length === 2, 'alice announced online again');
    const live: string[] = [];
    for (let i = 0; i < 3; i++) live.push(await sendText(bob, alice, `after reconnecting ${i}`));
    await aliceAgain.next(messageTo(live[2]!));
    expect(messageIds(aliceAgain)).toEqual(live);
    expect(await catchUp(alice, from)).toEqual([...sent, ...live]);
    // Checked last, once every announcement of the burial had time to go out before these messages did.
    expect(bobEvents.events.filter(presence(carol.id, false))).toEqual([]);
  }, 60_000);

  it('should close the connections of a node paused past its liveness TTL once it runs again, so its users reconnect and catch up', async () => {
    const victim = await cluster.startPush('push-paused');
    const [dan, bob] = [await register(api(), 'dan'), await register(api(), 'bob')];
    await befriend(api(), bob, dan);
    const from = await cursorOf(dan);
    const bobEvents = await listen(survivor(), bob);
    const danFirst = await listen(victim, dan);
    await eventually(() => isOnline(bob, dan.id), 'dan online');

    victim.child.kill('SIGSTOP');
    await bobEvents.next(presence(dan.id, false), NOTICED_WITHIN_MS);
    const missed = await sendText(bob, dan, 'while the node was paused');
    expect(await routesOn(dan, victim)).toEqual([]);
    expect(await cluster.redis.exists(`${keyPrefix}unread:${victim.nodeId}`)).toBe(0);
    victim.child.kill('SIGCONT');

    expect(await within(danFirst.closed, 10_000, 'the paused node closing its socket')).toBe(1012);
    // The node is alive again: it takes connections and is routed to.
    const danAgain = await listen(victim, dan);
    const after = await sendText(bob, dan, 'after the node came back');
    await danAgain.next(messageTo(after));
    expect(await catchUp(dan, from)).toEqual([missed, after]);
  }, 60_000);
});
