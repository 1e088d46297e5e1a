import { errorCode, gql, ok, ownerWithFriends, register } from './support/client';
import { createService, grantAdmin, runAdmin, type TestService as Service } from './support/admin';
import { useServer, type TestServer } from './support/server';

const SEND_SYSTEM = `mutation($input: SendSystemMessageInput!) { sendSystemMessage(input: $input) {
  id seq type content conversationId conversationType clientMessageId sender { id username } } }`;
const WHOAMI = `{ serviceAccount { id name user { id username } } }`;
const HISTORY = `query($c: ID!) { messages(conversationId: $c) { id seq type content sender { id } } }`;
const CONTACTS = `{ contacts { conversationId type peer { id } group { id } lastSeq unreadCount muted lastMessage { id type } } }`;
const SYNC = `query($cursor: String) { syncMessages(cursor: $cursor) { messages { id type conversationId } } }`;
const MARK_READ = `mutation($c: ID!) { markConversationRead(conversationId: $c) { readSeq unreadCount } }`;
const MUTE = `mutation($c: ID!) { setContactMuted(conversationId: $c, muted: true) { muted } }`;
const CREATE_GROUP = `mutation($input: CreateGroupInput!) { createGroup(input: $input) { id conversationId } }`;
const EVENTS = `subscription { events { __typename ... on MessageEvent { message { id type content conversationId sender { id } } } } }`;
const AUDIT = `query($action: String) { auditLog(action: $action) { actorId action subjectType subjectId details } }`;

// Every account is made by running the built admin command, a node process of its own: seconds on a busy machine.
jest.setTimeout(120_000);

describe('service messages', () => {
  // Low limits, per account: each test makes its own account, so only the rate-limit test reaches them.
  const suite = useServer({ SERVICE_RATE_PER_SECOND: '1', SERVICE_RATE_BURST: '5' });
  let server: TestServer;
  beforeAll(() => (server = suite.server));

  let keys = 0;
  const system = (service: Service, input: Record<string, unknown>) =>
    gql(server, SEND_SYSTEM, { input: { idempotencyKey: `k${keys++}`, content: 'hello from a service', ...input } }, service.key);
  const sent = async (service: Service, input: Record<string, unknown>) => {
    const result = await system(service, input);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data.sendSystemMessage;
  };

  it('should make an account with npm run admin that prints a key for it once, logged with no actor', async () => {
    const service = await createService(server);
    expect(service.key).toMatch(/^imsk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const { serviceAccount } = await ok(server, WHOAMI, {}, service.key);
    expect(serviceAccount).toMatchObject({ name: service.name, user: { username: service.name } });

    const admin = await register(server, 'auditor');
    await grantAdmin(server, admin);
    const { auditLog } = await ok(server, AUDIT, { action: 'CREATE_SERVICE_ACCOUNT' }, admin.token);
    const entry = auditLog.find((e: { subjectId: string }) => e.subjectId === serviceAccount.id);
    expect(entry).toMatchObject({ actorId: null, subjectType: 'SERVICE_ACCOUNT' });
    expect(JSON.parse(entry.details)).toEqual({ name: service.name });

    const list = await runAdmin(server, 'service', 'list');
    expect(list.stdout).toContain(`${service.name}\tid ${serviceAccount.id}`);
    expect(list.stdout).not.toContain(service.key.split('_').pop());
  });

  it('should store a SYSTEM message to a user and deliver it like any message: event, contact, unread, history, sync', async () => {
    const service = await createService(server);
    const user = await register(server, 'reader');
    const events = await suite.listen(user, { query: EVENTS });

    const message = await sent(service, { toUserId: user.id, content: 'your order shipped' });
    expect(message).toMatchObject({ seq: 1, type: 'SYSTEM', content: 'your order shipped', conversationType: 'PRIVATE', sender: { username: service.name } });
    const event = await events.next((e) => e.__typename === 'MessageEvent');
    expect(event.message).toEqual({ id: message.id, type: 'SYSTEM', content: 'your order shipped', conversationId: message.conversationId, sender: { id: message.sender.id } });

    const contact = (await ok(server, CONTACTS, {}, user.token)).contacts.find((c: any) => c.conversationId === message.conversationId);
    expect(contact).toMatchObject({ type: 'PRIVATE', peer: { id: message.sender.id }, lastSeq: 1, unreadCount: 1, lastMessage: { id: message.id, type: 'SYSTEM' } });
    expect((await ok(server, HISTORY, { c: message.conversationId }, user.token)).messages).toEqual([
      { id: message.id, seq: 1, type: 'SYSTEM', content: 'your order shipped', sender: { id: message.sender.id } },
    ]);
    expect((await ok(server, SYNC, {}, user.token)).syncMessages.messages).toContainEqual({ id: message.id, type: 'SYSTEM', conversationId: message.conversationId });

    // A second message goes into the same conversation; the user reads and mutes it, but cannot write back.
    const second = await sent(service, { toUserId: user.id, content: 'delivered' });
    expect(second).toMatchObject({ conversationId: message.conversationId, seq: 2 });
    expect((await ok(server, MARK_READ, { c: message.conversationId }, user.token)).markConversationRead).toEqual({ readSeq: 2, unreadCount: 0 });
    expect((await ok(server, MUTE, { c: message.conversationId }, user.token)).setContactMuted).toEqual({ muted: true });
    expect(await errorCode(server, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { toUserId: message.sender.id, content: 'stop', clientMessageId: 'reply' } }, user.token)).toBe('FORBIDDEN');
  });

  it('should deliver a SYSTEM message to every member of a group the service is not in, once in its history', async () => {
    const service = await createService(server);
    const { owner, others } = await ownerWithFriends(server, 'sgrp', 2);
    const group = (await ok(server, CREATE_GROUP, { input: { name: 'shop', memberIds: others.map((m) => m.id) } }, owner.token)).createGroup;
    const members = [owner, ...others];
    const listening = await Promise.all(members.map((m) => suite.listen(m, { query: EVENTS })));

    const message = await sent(service, { toGroupId: group.id, content: 'maintenance at 22:00' });
    expect(message).toMatchObject({ conversationId: group.conversationId, conversationType: 'GROUP', type: 'SYSTEM' });
    for (const events of listening) {
      expect((await events.next((e) => e.__typename === 'MessageEvent' && e.message.id === message.id)).message.type).toBe('SYSTEM');
    }
    for (const member of members) {
      const contact = (await ok(server, CONTACTS, {}, member.token)).contacts.find((c: any) => c.conversationId === group.conversationId);
      expect(contact).toMatchObject({ unreadCount: 1, lastMessage: { id: message.id } });
    }
    const history = (await ok(server, HISTORY, { c: group.conversationId }, others[0]!.token)).messages;
    expect(history.filter((m: any) => m.type === 'SYSTEM').map((m: any) => m.id)).toEqual([message.id]);
  });

  it('should store one message per idempotency key and return the first one on a retry', async () => {
    const service = await createService(server);
    const user = await register(server, 'idem');
    const other = await register(server, 'idem');
    const first = await sent(service, { toUserId: user.id, content: 'once', idempotencyKey: 'order-42' });
    const again = await sent(service, { toUserId: user.id, content: 'once more', idempotencyKey: 'order-42' });
    expect(again).toMatchObject({ id: first.id, seq: 1, content: 'once', clientMessageId: 'order-42' });
    expect((await ok(server, HISTORY, { c: first.conversationId }, user.token)).messages).toHaveLength(1);
    expect((await system(service, { toUserId: other.id, idempotencyKey: 'order-42' })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    // Keys are per account: another service may use the same one.
    const second = await createService(server);
    expect((await sent(second, { toUserId: user.id, idempotencyKey: 'order-42' })).id).not.toBe(first.id);
  });

  it('should limit the rate per account and answer RATE_LIMITED with retryAfterMs', async () => {
    const service = await createService(server);
    const user = await register(server, 'flood');
    const results = [];
    for (let i = 0; i < 8; i++) results.push(await system(service, { toUserId: user.id }));
    const limited = results.filter((r) => r.errors?.[0]?.extensions?.code === 'RATE_LIMITED');
    expect(limited.length).toBeGreaterThanOrEqual(2);
    expect((limited[0]!.errors![0]!.extensions as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    expect(results.slice(0, 5).every((r) => r.data?.sendSystemMessage)).toBe(true);
    // Another account has a bucket of its own.
    expect((await system(await createService(server), { toUserId: user.id })).errors).toBeUndefined();
  });

  it('should answer UNAUTHENTICATED to a revoked or rotated-away key on the very next request', async () => {
    const service = await createService(server);
    const user = await register(server, 'revoked');
    await sent(service, { toUserId: user.id });

    const rotated = await runAdmin(server, 'service', 'rotate', service.name.toUpperCase());
    expect(rotated.code).toBe(0);
    const newKey = rotated.stdout.trim().split('\n').pop()!;
    expect(newKey).not.toBe(service.key);
    expect((await system(service, { toUserId: user.id })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const renewed = { ...service, key: newKey };
    await sent(renewed, { toUserId: user.id });

    expect((await runAdmin(server, 'service', 'revoke', service.name)).code).toBe(0);
    expect((await system(renewed, { toUserId: user.id })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await errorCode(server, WHOAMI, {}, newKey)).toBe('UNAUTHENTICATED');
    // A key of the right shape with a wrong secret is no better.
    const forged = `${newKey.slice(0, 18)}${'A'.repeat(43)}`;
    expect(await errorCode(server, WHOAMI, {}, forged)).toBe('UNAUTHENTICATED');
    expect((await runAdmin(server, 'service', 'revoke', service.name)).code).toBe(1);
  });

  it('should let a key do nothing but its own fields, in the Authorization or the X-Api-Key header', async () => {
    const service = await createService(server);
    const user = await register(server, 'victim');
    for (const query of ['{ me { id } }', '{ contacts { conversationId } }', `{ user(id: ${JSON.stringify(user.id)}) { id } }`]) {
      expect(await errorCode(server, query, {}, service.key)).toBe('FORBIDDEN');
    }
    expect(await errorCode(server, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { toUserId: user.id, content: 'x', clientMessageId: 'x' } }, service.key)).toBe('FORBIDDEN');
    expect(await errorCode(server, `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`, { input: { username: user.username, password: 'correct horse battery' } }, service.key)).toBe('FORBIDDEN');

    const viaHeader = async (query: string, variables?: Record<string, unknown>) => {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': service.key },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as { data?: any; errors?: Array<{ extensions: { code: string } }> };
    };
    expect((await viaHeader(WHOAMI)).data.serviceAccount.name).toBe(service.name);
    expect((await viaHeader(SEND_SYSTEM, { input: { toUserId: user.id, content: 'hi', idempotencyKey: 'hdr' } })).data.sendSystemMessage.type).toBe('SYSTEM');
    expect((await viaHeader('{ me { id } }')).errors?.[0]?.extensions.code).toBe('FORBIDDEN');
  });

  it('should refuse sendSystemMessage to user tokens and anonymous callers, and SYSTEM to sendMessage', async () => {
    const user = await register(server, 'plain');
    const friend = await register(server, 'plain');
    const input = { toUserId: friend.id, content: 'fake notice', idempotencyKey: 'fake' };
    expect(await errorCode(server, SEND_SYSTEM, { input }, user.token)).toBe('FORBIDDEN');
    expect(await errorCode(server, SEND_SYSTEM, { input })).toBe('UNAUTHENTICATED');
    expect(await errorCode(server, WHOAMI, {}, user.token)).toBe('FORBIDDEN');
    const sendSystemType = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;
    const refused = await gql(server, sendSystemType, { input: { toUserId: friend.id, type: 'SYSTEM', content: 'fake', clientMessageId: 'sys' } }, user.token);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'type' });
  });

  it('should check its input: exactly one target, 1-4000 characters, a 1-64 character key, an existing target', async () => {
    const service = await createService(server);
    const user = await register(server, 'input');
    const code = async (input: Record<string, unknown>) => (await system(service, input)).errors?.[0]?.extensions;
    expect(await code({})).toMatchObject({ code: 'BAD_USER_INPUT', field: 'toUserId' });
    expect(await code({ toUserId: user.id, toGroupId: '1' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'toUserId' });
    expect(await code({ toUserId: user.id, content: 'x'.repeat(4001) })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'content' });
    expect(await code({ toUserId: user.id, content: '   ' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'content' });
    expect(await code({ toUserId: user.id, idempotencyKey: 'k'.repeat(65) })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
    expect(await code({ toUserId: '999999999' })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await code({ toGroupId: '999999999' })).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('should never let anyone log in as a service account, nor reuse its name', async () => {
    const service = await createService(server);
    for (const password of ['', 'correct horse battery', service.key]) {
      const result = await gql(server, `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`, { input: { username: service.name, password } });
      expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    const taken = await runAdmin(server, 'service', 'create', service.name.toUpperCase());
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('already exists');
    expect((await runAdmin(server, 'service', 'create')).code).toBe(2);
  });
});
