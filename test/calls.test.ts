import { createHmac } from 'node:crypto';
import { befriend, errorCode, gql, login, ok, register, type TestUser } from './support/client';
import { ACCEPT, CALL, CALL_EVENTS, callEvent, CANCEL, HANG_UP, INVITE, REJECT, SIGNAL, SYNC } from './support/calls';
import { useServer, type TestServer } from './support/server';

const ICE = `{ iceServers { urls username credential } }`;
const RING_SECONDS = 3;
const TURN_SECRET = 'turn-shared-secret-for-tests';

describe('calls', () => {
  const suite = useServer({
    CALL_RING_TIMEOUT_SECONDS: String(RING_SECONDS),
    STUN_URLS: 'stun:stun.example.com:3478',
    TURN_URLS: 'turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349',
    TURN_SECRET,
    TURN_CREDENTIAL_TTL_SECONDS: '600',
  });
  let server: TestServer;
  beforeAll(() => (server = suite.server));

  const listen = (user: TestUser) => suite.listen(user, { query: CALL_EVENTS });
  /** Two fresh friends, each also logged in on a second terminal (APP). */
  const friends = async (prefix: string) => {
    const a = await register(server, `${prefix}A`);
    const b = await register(server, `${prefix}B`);
    await befriend(server, a, b);
    return { a, b, a2: await login(server, a.username, 'APP'), b2: await login(server, b.username, 'APP') };
  };
  const invite = async (from: TestUser, to: TestUser, media = 'VIDEO') => (await ok(server, INVITE, { u: to.id, m: media }, from.token)).inviteCall;
  const act = async (mutation: string, user: TestUser, id: string) => Object.values(await ok(server, mutation, { id }, user.token))[0] as any;
  const failure = async (query: string, variables: Record<string, unknown>, user: TestUser) => {
    const result = await gql(server, query, variables, user.token);
    if (!result.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(result.data)}`);
    return result.errors[0]!.extensions as { code: string; reason?: string; field?: string };
  };
  /** The CALL message of `callId` as `user` catches up on it, content parsed. */
  const historyOf = async (user: TestUser, callId: string) => {
    const messages = (await ok(server, SYNC, undefined, user.token)).syncMessages.messages as any[];
    const found = messages.filter((m) => m.type === 'CALL' && JSON.parse(m.content).callId === callId);
    expect(found).toHaveLength(1);
    return { ...found[0], content: JSON.parse(found[0].content) };
  };

  it("should ring every terminal of the callee and the caller's other terminals, not the calling one", async () => {
    const { a, b, a2, b2 } = await friends('ring');
    const [onA, onA2, onB, onB2] = await Promise.all([listen(a), listen(a2), listen(b), listen(b2)]);
    const call = await invite(a, b, 'AUDIO');
    expect(call).toMatchObject({ state: 'RINGING', media: 'AUDIO', caller: { id: a.id }, callee: { id: b.id }, outcome: null });
    for (const recorder of [onB, onB2, onA2]) expect((await recorder.next(callEvent('INVITED', call.id))).call.state).toBe('RINGING');
    expect(await ok(server, CALL, { id: call.id }, b.token)).toMatchObject({ call: { id: call.id, state: 'RINGING' } });
    await act(CANCEL, a, call.id);
    // The calling terminal hears of the end, and never heard the ring that it started.
    await onA.next(callEvent('CANCELLED', call.id));
    expect(onA.events.filter(callEvent('INVITED', call.id))).toEqual([]);
  });

  it('should let the first terminal that accepts win and tell the others ANSWERED_ELSEWHERE', async () => {
    const { a, b, b2 } = await friends('first');
    const [onA, onB, onB2] = await Promise.all([listen(a), listen(b), listen(b2)]);
    const call = await invite(a, b);
    const results = await Promise.all([gql(server, ACCEPT, { id: call.id }, b.token), gql(server, ACCEPT, { id: call.id }, b2.token)]);
    const winner = results.findIndex((r) => !r.errors);
    const loser = results[1 - winner]!;
    expect(winner).toBeGreaterThanOrEqual(0);
    expect(results[winner]!.data.acceptCall).toMatchObject({ id: call.id, state: 'CONNECTED' });
    expect(loser.errors![0]!.extensions).toMatchObject({ code: 'CONFLICT', reason: 'ANSWERED_ELSEWHERE' });
    expect((await onA.next(callEvent('ACCEPTED', call.id))).call.state).toBe('CONNECTED');
    const [winnerEvents, loserEvents] = winner === 0 ? [onB, onB2] : [onB2, onB];
    await loserEvents.next(callEvent('ANSWERED_ELSEWHERE', call.id));
    await act(HANG_UP, a, call.id);
    await winnerEvents.next(callEvent('ENDED', call.id));
    expect(winnerEvents.events.filter(callEvent('ANSWERED_ELSEWHERE', call.id))).toEqual([]);
    // An ended call is forgotten: its history message is what remains.
    expect(await errorCode(server, ACCEPT, { id: call.id }, b.token)).toBe('NOT_FOUND');
  });

  it('should end a rejected call for both and record it as REJECTED', async () => {
    const { a, b } = await friends('reject');
    const [onA, onB] = await Promise.all([listen(a), listen(b)]);
    const call = await invite(a, b);
    expect(await act(REJECT, b, call.id)).toMatchObject({ state: 'ENDED', outcome: 'REJECTED', durationSeconds: null });
    await onA.next(callEvent('REJECTED', call.id));
    await onB.next(callEvent('REJECTED', call.id));
    const message = await historyOf(b, call.id);
    expect(message.sender.id).toBe(a.id);
    expect(message.content).toEqual({ callId: call.id, media: 'VIDEO', outcome: 'REJECTED', durationSeconds: null });
    // Delivered live like any message.
    expect((await onB.next((e) => e.__typename === 'MessageEvent' && e.message.id === message.id)).message.type).toBe('CALL');
    expect(await ok(server, CALL, { id: call.id }, a.token)).toEqual({ call: null });
  });

  it('should end a cancelled call for both and record it as CANCELLED', async () => {
    const { a, b } = await friends('cancel');
    const onB = await listen(b);
    const call = await invite(a, b);
    expect(await act(CANCEL, a, call.id)).toMatchObject({ state: 'ENDED', outcome: 'CANCELLED' });
    await onB.next(callEvent('CANCELLED', call.id));
    expect((await historyOf(a, call.id)).content.outcome).toBe('CANCELLED');
  });

  it('should refuse the wrong party: only the callee accepts or rejects, only the caller cancels, strangers see nothing', async () => {
    const { a, b } = await friends('roles');
    const stranger = await register(server, 'rolesC');
    const call = await invite(a, b);
    expect(await errorCode(server, ACCEPT, { id: call.id }, a.token)).toBe('FORBIDDEN');
    expect(await errorCode(server, REJECT, { id: call.id }, a.token)).toBe('FORBIDDEN');
    expect(await errorCode(server, CANCEL, { id: call.id }, b.token)).toBe('FORBIDDEN');
    for (const mutation of [ACCEPT, REJECT, CANCEL, HANG_UP]) expect(await errorCode(server, mutation, { id: call.id }, stranger.token)).toBe('NOT_FOUND');
    expect(await errorCode(server, SIGNAL, { id: call.id, k: 'OFFER', p: 'v=0' }, stranger.token)).toBe('NOT_FOUND');
    expect(await ok(server, CALL, { id: call.id }, stranger.token)).toEqual({ call: null });
    expect(await failure(ACCEPT, { id: 'not-a-call' }, b)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'callId' });
    await act(HANG_UP, b, call.id);
  });

  it('should record an answered call hung up as COMPLETED with its duration', async () => {
    const { a, b } = await friends('duration');
    const onA = await listen(a);
    const call = await invite(a, b, 'AUDIO');
    await act(ACCEPT, b, call.id);
    await new Promise((r) => setTimeout(r, 1600));
    const ended = await act(HANG_UP, b, call.id);
    expect(ended).toMatchObject({ state: 'ENDED', outcome: 'COMPLETED' });
    expect(ended.durationSeconds).toBeGreaterThanOrEqual(1);
    expect(ended.durationSeconds).toBeLessThanOrEqual(4);
    expect((await onA.next(callEvent('ENDED', call.id))).call).toMatchObject({ outcome: 'COMPLETED', durationSeconds: ended.durationSeconds });
    expect((await historyOf(a, call.id)).content).toEqual({ callId: call.id, media: 'AUDIO', outcome: 'COMPLETED', durationSeconds: ended.durationSeconds });
    expect(await errorCode(server, HANG_UP, { id: call.id }, a.token)).toBe('NOT_FOUND');
  });

  it('should refuse a caller already in a call with CONFLICT BUSY, and end a call to a busy callee as BUSY', async () => {
    const { a, b } = await friends('busy');
    const c = await register(server, 'busyC');
    await befriend(server, a, c);
    await befriend(server, c, b);
    const onC = await listen(c);
    const call = await invite(a, b);
    expect(await failure(INVITE, { u: c.id }, a)).toEqual({ code: 'CONFLICT', reason: 'BUSY' });
    const busy = await invite(c, b);
    expect(busy).toMatchObject({ state: 'ENDED', outcome: 'BUSY', caller: { id: c.id }, callee: { id: b.id } });
    await onC.next(callEvent('BUSY', busy.id));
    expect((await historyOf(b, busy.id)).content.outcome).toBe('BUSY');
    // Once the first call ended, everyone is free again.
    await act(CANCEL, a, call.id);
    const again = await invite(c, b);
    expect(again.state).toBe('RINGING');
    await act(CANCEL, c, again.id);
  });

  it('should end an unanswered call as MISSED after the ring timeout, for both, in the history', async () => {
    const { a, b } = await friends('missed');
    const [onA, onB] = await Promise.all([listen(a), listen(b)]);
    const started = Date.now();
    const call = await invite(a, b);
    const missed = await onA.next(callEvent('MISSED', call.id), (RING_SECONDS + 5) * 1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(RING_SECONDS * 1000 - 100);
    expect(missed.call).toMatchObject({ state: 'ENDED', outcome: 'MISSED' });
    await onB.next(callEvent('MISSED', call.id));
    expect((await historyOf(b, call.id)).content).toEqual({ callId: call.id, media: 'VIDEO', outcome: 'MISSED', durationSeconds: null });
    expect(await errorCode(server, ACCEPT, { id: call.id }, b.token)).toBe('NOT_FOUND');
  }, 20_000);

  it('should let only friends call', async () => {
    const a = await register(server, 'onlyA');
    const stranger = await register(server, 'onlyS');
    expect(await errorCode(server, INVITE, { u: stranger.id }, a.token)).toBe('FORBIDDEN');
    expect(await errorCode(server, INVITE, { u: '999999999' }, a.token)).toBe('NOT_FOUND');
    expect(await failure(INVITE, { u: a.id }, a)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'calleeId' });
    expect(await errorCode(server, `{ iceServers { urls } }`, undefined, undefined)).toBe('UNAUTHENTICATED');
  });

  it('should relay signals only between the calling and the answering terminal', async () => {
    const { a, b, a2, b2 } = await friends('signal');
    const [onA, onA2, onB, onB2] = await Promise.all([listen(a), listen(a2), listen(b), listen(b2)]);
    const call = await invite(a, b);
    expect(await failure(SIGNAL, { id: call.id, k: 'OFFER', p: 'v=0 early' }, a)).toEqual({ code: 'CONFLICT', reason: 'NOT_CONNECTED' });
    await act(ACCEPT, b2, call.id);
    expect(await ok(server, SIGNAL, { id: call.id, k: 'OFFER', p: 'v=0 offer' }, a.token)).toEqual({ sendCallSignal: true });
    const offer = await onB2.next(callEvent('SIGNAL', call.id));
    expect(offer.signal).toEqual({ kind: 'OFFER', payload: 'v=0 offer' });
    await ok(server, SIGNAL, { id: call.id, k: 'ANSWER', p: 'v=0 answer' }, b2.token);
    await ok(server, SIGNAL, { id: call.id, k: 'ICE_CANDIDATE', p: '{"candidate":"c1"}' }, b2.token);
    expect((await onA.next(callEvent('SIGNAL', call.id))).signal).toEqual({ kind: 'ANSWER', payload: 'v=0 answer' });
    await onA.next((e) => callEvent('SIGNAL', call.id)(e) && e.signal.kind === 'ICE_CANDIDATE');
    // The other terminals of either party are not in the call: they may not signal, and hear no signal.
    expect(await errorCode(server, SIGNAL, { id: call.id, k: 'ICE_CANDIDATE', p: 'c' }, a2.token)).toBe('FORBIDDEN');
    expect(await errorCode(server, SIGNAL, { id: call.id, k: 'ICE_CANDIDATE', p: 'c' }, b.token)).toBe('FORBIDDEN');
    await act(HANG_UP, a, call.id);
    for (const recorder of [onA2, onB]) {
      await recorder.next(callEvent('ENDED', call.id));
      expect(recorder.events.filter(callEvent('SIGNAL', call.id))).toEqual([]);
    }
    expect(onA.events.filter(callEvent('SIGNAL', call.id))).toHaveLength(2);
    expect(onB2.events.filter(callEvent('SIGNAL', call.id))).toHaveLength(1);
  });

  it('should refuse signal payloads over 16 KB of SDP or 2 KB of candidate with BAD_USER_INPUT naming payload', async () => {
    const { a, b } = await friends('limits');
    const call = await invite(a, b);
    await act(ACCEPT, b, call.id);
    const signal = (k: string, p: string) => gql(server, SIGNAL, { id: call.id, k, p }, a.token);
    expect((await signal('OFFER', 'x'.repeat(16 * 1024))).data).toEqual({ sendCallSignal: true });
    expect((await signal('OFFER', 'x'.repeat(16 * 1024 + 1))).errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'payload' });
    expect((await signal('ICE_CANDIDATE', 'x'.repeat(2048))).data).toEqual({ sendCallSignal: true });
    // Counted in bytes: 1,000 three-byte characters are over 2 KB.
    expect((await signal('ICE_CANDIDATE', '€'.repeat(1000))).errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'payload' });
    expect((await signal('ANSWER', '')).errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'payload' });
    await act(HANG_UP, a, call.id);
  });

  it('should hand out STUN servers and TURN credentials that the TURN server can verify with the shared secret', async () => {
    const user = await register(server, 'ice');
    const before = Math.floor(Date.now() / 1000);
    const { iceServers } = await ok(server, ICE, undefined, user.token);
    expect(iceServers[0]).toEqual({ urls: ['stun:stun.example.com:3478'], username: null, credential: null });
    const turn = iceServers[1];
    expect(turn.urls).toEqual(['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349']);
    const [expiry, userId] = turn.username.split(':');
    expect(userId).toBe(user.id);
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 600);
    expect(Number(expiry)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 600);
    expect(turn.credential).toBe(createHmac('sha1', TURN_SECRET).update(turn.username).digest('base64'));
  });

  it('should refuse a CALL message sent by a client', async () => {
    const { a, b } = await friends('forge');
    const result = await gql(server, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { toUserId: b.id, type: 'CALL', content: '{}', clientMessageId: 'forged' } }, a.token);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'type' });
  });
});
