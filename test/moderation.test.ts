import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { befriend, errorCode, gql, ok, ownerWithFriends, register, send, type TestUser } from './support/client';
import { grantAdmin } from './support/admin';
import { databaseUrl, startServer, useServer, type TestServer } from './support/server';
import { eventually } from './support/wait';

const LISTS = `{ wordLists { id name action version words wordCount } }`;
const CREATE = `mutation($name: String!, $action: WordListAction!) { createWordList(name: $name, action: $action) { id name action version words wordCount } }`;
const ADD = `mutation($id: ID!, $words: [String!]!) { addWords(listId: $id, words: $words) { id version words wordCount } }`;
const REMOVE = `mutation($id: ID!, $words: [String!]!) { removeWords(listId: $id, words: $words) { id version words } }`;
const SET_ACTION = `mutation($id: ID!, $action: WordListAction!) { setWordListAction(id: $id, action: $action) { id action version } }`;
const DELETE = `mutation($id: ID!) { deleteWordList(id: $id) }`;
const AUDIT = `query($subjectId: ID) { auditLog(subjectType: "WORD_LIST", subjectId: $subjectId) { actorId action subjectId details } }`;
const PROFILE = `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { nickname signature } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { content } }`;
const CREATE_GROUP = `mutation($input: CreateGroupInput!) { createGroup(input: $input) { id name } }`;
const UPDATE_GROUP = `mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { name notice } }`;
const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { user { nickname } } }`;

let seq = 0;
const uniqueName = (prefix: string) => `${prefix}${process.pid % 1000}_${seq++}`;

/** The first error's extensions, failing when the operation succeeded. */
async function refusal(server: TestServer, query: string, variables: Record<string, unknown>, token?: string): Promise<Record<string, unknown>> {
  const result = await gql(server, query, variables, token);
  if (!result.errors?.length) throw new Error(`expected a refusal, got ${JSON.stringify(result.data)}`);
  return result.errors[0]!.extensions as Record<string, unknown>;
}

const moderationRefusal = (field: string) => ({ code: 'BAD_USER_INPUT', field, reason: 'MODERATION' });

/** A new admin's token with a new list holding `words`. */
async function listWith(server: TestServer, admin: TestUser, action: 'MASK' | 'REFUSE', words: string[]): Promise<string> {
  const { createWordList } = await ok(server, CREATE, { name: uniqueName('list'), action }, admin.token);
  await ok(server, ADD, { id: createWordList.id, words }, admin.token);
  return createWordList.id;
}

const signature = async (server: TestServer, user: TestUser, text: string) => (await ok(server, PROFILE, { input: { signature: text } }, user.token)).updateProfile.signature;

describe('moderation of every field', () => {
  const suite = useServer();
  let admin: TestUser;
  beforeAll(async () => {
    admin = await register(suite.server, 'modadmin');
    await grantAdmin(suite.server, admin);
    await listWith(suite.server, admin, 'MASK', ['darn']);
    await listWith(suite.server, admin, 'REFUSE', ['Forbidden']);
  });

  it('should mask a private message in what is stored and delivered, and refuse one naming content', async () => {
    const { server } = suite;
    const [a, b] = [await register(server, 'pa'), await register(server, 'pb')];
    const conversationId = await befriend(server, a, b);
    const events = await suite.listen(b);
    expect((await send(server, a, b, 'oh DARN it')).content).toBe('oh **** it');
    expect((await events.next((e) => e.__typename === 'MessageEvent')).message.content).toBe('oh **** it');
    expect(await refusal(server, SEND, { input: { toUserId: b.id, content: 'this is forbidden', clientMessageId: 'r1' } }, a.token)).toEqual(moderationRefusal('content'));
    const history = await ok(server, `query($c: ID!) { messages(conversationId: $c) { content } }`, { c: conversationId }, b.token);
    expect(history.messages.map((m: { content: string }) => m.content)).toEqual(['oh **** it']);
  });

  it('should mask and refuse group names, notices and group messages', async () => {
    const { server } = suite;
    const { owner, others } = await ownerWithFriends(server, 'mg', 1);
    const { createGroup } = await ok(server, CREATE_GROUP, { input: { name: 'darn club', memberIds: others.map((u) => u.id) } }, owner.token);
    expect(createGroup.name).toBe('**** club');
    expect(await refusal(server, CREATE_GROUP, { input: { name: 'forbidden club' } }, owner.token)).toEqual(moderationRefusal('name'));
    const updated = await ok(server, UPDATE_GROUP, { id: createGroup.id, input: { name: 'Darn again', notice: 'no darn spam' } }, owner.token);
    expect(updated.updateGroup).toEqual({ name: '**** again', notice: 'no **** spam' });
    expect(await refusal(server, UPDATE_GROUP, { id: createGroup.id, input: { notice: 'FORBIDDEN notice' } }, owner.token)).toEqual(moderationRefusal('notice'));
    expect(await refusal(server, UPDATE_GROUP, { id: createGroup.id, input: { name: 'forbidden' } }, owner.token)).toEqual(moderationRefusal('name'));
    const group = await ok(server, `query($id: ID!) { group(id: $id) { name notice } }`, { id: createGroup.id }, owner.token);
    expect(group.group).toEqual({ name: '**** again', notice: 'no **** spam' });
    const sent = await ok(server, SEND, { input: { toGroupId: createGroup.id, content: 'darn', clientMessageId: 'g1' } }, others[0]!.token);
    expect(sent.sendMessage.content).toBe('****');
    expect(await refusal(server, SEND, { input: { toGroupId: createGroup.id, content: 'forbidden', clientMessageId: 'g2' } }, owner.token)).toEqual(moderationRefusal('content'));
  });

  it('should answer a member who may not edit the group FORBIDDEN before it looks at the texts', async () => {
    const { server } = suite;
    const { owner, others } = await ownerWithFriends(server, 'mf', 1);
    const { createGroup } = await ok(server, CREATE_GROUP, { input: { name: 'clean club', memberIds: others.map((u) => u.id) } }, owner.token);
    expect(await errorCode(server, UPDATE_GROUP, { id: createGroup.id, input: { name: 'forbidden', notice: 'darn' } }, others[0]!.token)).toBe('FORBIDDEN');
    const group = await ok(server, `query($id: ID!) { group(id: $id) { name notice } }`, { id: createGroup.id }, owner.token);
    expect(group.group).toEqual({ name: 'clean club', notice: null });
  });

  it('should mask and refuse nicknames at registration and in the profile, and signatures', async () => {
    const { server } = suite;
    const input = (nickname: string) => ({ input: { username: uniqueName('nick'), password: 'correct horse battery', nickname } });
    expect((await ok(server, REGISTER, input('Darn Dan'))).register.user.nickname).toBe('**** Dan');
    expect(await refusal(server, REGISTER, input('forbidden fan'))).toEqual(moderationRefusal('nickname'));
    const user = await register(server, 'prof');
    expect((await ok(server, PROFILE, { input: { nickname: 'darndest' } }, user.token)).updateProfile.nickname).toBe('****dest');
    expect(await refusal(server, PROFILE, { input: { nickname: 'forbidden' } }, user.token)).toEqual(moderationRefusal('nickname'));
    expect(await signature(server, user, 'well darn')).toBe('well ****');
    expect(await refusal(server, PROFILE, { input: { signature: 'Forbidden' } }, user.token)).toEqual(moderationRefusal('signature'));
    expect(await signature(server, user, '')).toBeNull();
  });

  it('should count what it masked and refused by field and action in the metrics', async () => {
    const { server } = suite;
    const counted = async (field: string, action: string) =>
      (await server.app.metrics.moderated.get()).values.find((v) => v.labels.field === field && v.labels.action === action)?.value ?? 0;
    const user = await register(server, 'counted');
    const [masked, refused] = [await counted('signature', 'MASK'), await counted('signature', 'REFUSE')];
    await signature(server, user, 'darn');
    await refusal(server, PROFILE, { input: { signature: 'forbidden' } }, user.token);
    await signature(server, user, 'clean');
    expect(await counted('signature', 'MASK')).toBe(masked + 1);
    expect(await counted('signature', 'REFUSE')).toBe(refused + 1);
  });
});

describe('the word lists admin API', () => {
  const suite = useServer();

  it('should answer FORBIDDEN to users without the ADMIN role and UNAUTHENTICATED to nobody', async () => {
    const { server } = suite;
    const user = await register(server, 'plainmod');
    const admin = await register(server, 'crudadmin');
    await grantAdmin(server, admin);
    const id = await listWith(server, admin, 'MASK', ['nope']);
    const attempts: Array<[string, Record<string, unknown>]> = [
      [LISTS, {}],
      [CREATE, { name: 'mine', action: 'MASK' }],
      [ADD, { id, words: ['x'] }],
      [REMOVE, { id, words: ['nope'] }],
      [SET_ACTION, { id, action: 'REFUSE' }],
      [DELETE, { id }],
    ];
    for (const [query, variables] of attempts) {
      expect(await errorCode(server, query, variables, user.token)).toBe('FORBIDDEN');
      expect(await errorCode(server, query, variables)).toBe('UNAUTHENTICATED');
    }
    const { wordLists } = await ok(server, LISTS, {}, admin.token);
    expect(wordLists.find((l: { id: string }) => l.id === id)).toMatchObject({ action: 'MASK', words: ['nope'], version: 2 });
  });

  it('should create, fill, switch, empty and delete a list, each change in force at once and in the audit log', async () => {
    const { server } = suite;
    const admin = await register(server, 'crud');
    await grantAdmin(server, admin);
    const user = await register(server, 'writer');
    const name = uniqueName('swears');
    const { createWordList: list } = await ok(server, CREATE, { name, action: 'MASK' }, admin.token);
    expect(list).toMatchObject({ name, action: 'MASK', version: 1, words: [], wordCount: 0 });

    const added = (await ok(server, ADD, { id: list.id, words: ['  Heck ', 'HECK', 'gosh'] }, admin.token)).addWords;
    expect(added).toMatchObject({ version: 2, words: ['gosh', 'heck'], wordCount: 2 });
    expect(await signature(server, user, 'oh heck, GOSH')).toBe('oh ****, ****');

    expect((await ok(server, SET_ACTION, { id: list.id, action: 'REFUSE' }, admin.token)).setWordListAction).toMatchObject({ action: 'REFUSE', version: 3 });
    expect(await refusal(server, PROFILE, { input: { signature: 'oh heck' } }, user.token)).toEqual(moderationRefusal('signature'));

    expect((await ok(server, REMOVE, { id: list.id, words: ['HECK', 'unknown'] }, admin.token)).removeWords).toMatchObject({ version: 4, words: ['gosh'] });
    expect(await signature(server, user, 'oh heck')).toBe('oh heck');
    expect(await refusal(server, PROFILE, { input: { signature: 'gosh' } }, user.token)).toEqual(moderationRefusal('signature'));

    expect((await ok(server, DELETE, { id: list.id }, admin.token)).deleteWordList).toBe(true);
    expect(await signature(server, user, 'gosh')).toBe('gosh');
    expect((await ok(server, LISTS, {}, admin.token)).wordLists.map((l: { id: string }) => l.id)).not.toContain(list.id);

    const { auditLog } = await ok(server, AUDIT, { subjectId: list.id }, admin.token);
    expect(auditLog.map((e: { action: string }) => e.action)).toEqual(['DELETE_WORD_LIST', 'REMOVE_WORDS', 'SET_WORD_LIST_ACTION', 'ADD_WORDS', 'CREATE_WORD_LIST']);
    expect(auditLog.every((e: { actorId: string }) => e.actorId === admin.id)).toBe(true);
    expect(JSON.parse(auditLog[3].details)).toEqual({ added: 2, words: 2 });
    expect(JSON.parse(auditLog[4].details)).toEqual({ name, action: 'MASK' });
  });

  it('should refuse bad names and words naming the field, a taken name with CONFLICT and an unknown list with NOT_FOUND', async () => {
    const { server } = suite;
    const admin = await register(server, 'limits');
    await grantAdmin(server, admin);
    const id = await listWith(server, admin, 'MASK', ['fine']);
    expect(await refusal(server, ADD, { id, words: ['x'.repeat(101)] }, admin.token)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'words' });
    expect(await refusal(server, ADD, { id, words: [] }, admin.token)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'words' });
    expect(await refusal(server, ADD, { id, words: ['ok', '   '] }, admin.token)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'words' });
    expect(await refusal(server, ADD, { id, words: Array.from({ length: 1001 }, (_, i) => `w${i}`) }, admin.token)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'words' });
    expect(await refusal(server, CREATE, { name: ' ', action: 'MASK' }, admin.token)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    const name = uniqueName('taken');
    await ok(server, CREATE, { name, action: 'MASK' }, admin.token);
    expect(await errorCode(server, CREATE, { name, action: 'REFUSE' }, admin.token)).toBe('CONFLICT');
    expect(await errorCode(server, ADD, { id: '999999', words: ['x'] }, admin.token)).toBe('NOT_FOUND');
    expect(await errorCode(server, DELETE, { id: '999999' }, admin.token)).toBe('NOT_FOUND');
    const { wordLists } = await ok(server, LISTS, {}, admin.token);
    expect(wordLists.find((l: { id: string }) => l.id === id)).toMatchObject({ words: ['fine'], version: 2 });
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
(redisUrl ? describe : describe.skip)('a change on one node', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    // The second node first: the first one owns (and drops) the database.
    for (const server of servers.reverse()) await server.close();
  });

  it('should be in force on a second node sharing Redis at once, without waiting for the periodic check', async () => {
    // An hour between checks: only the announcement can bring the change in time.
    const env = { REDIS_URL: redisUrl!, REDIS_KEY_PREFIX: `im-test-mod-${process.pid}-${Date.now()}:`, MODERATION_RECHECK_SECONDS: '3600' };
    const a = await startServer(env);
    servers.push(a);
    const b = await startServer({ ...env, DATABASE_URL: databaseUrl(a) });
    servers.push(b);
    const admin = await register(a, 'nodeadmin');
    await grantAdmin(a, admin);
    const user = await register(b, 'nodeuser');
    expect(await signature(b, user, 'crikey')).toBe('crikey');
    const id = await listWith(a, admin, 'MASK', ['crikey']);
    await eventually(async () => (await signature(b, user, 'crikey')) === '******', 5000, 'node b masks the new word');
    await ok(a, SET_ACTION, { id, action: 'REFUSE' }, admin.token);
    await eventually(async () => (await gql(b, PROFILE, { input: { signature: 'crikey' } }, user.token)).errors?.[0]?.extensions?.code === 'BAD_USER_INPUT', 5000, 'node b refuses the word');
  });
});

describe('a node that missed an announcement', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const server of servers.reverse()) await server.close();
  });

  it('should catch up at its periodic check', async () => {
    // No Redis: nothing announces the change to the second node; only its check every second finds it.
    const a = await startServer({ MODERATION_RECHECK_SECONDS: '1' });
    servers.push(a);
    const b = await startServer({ DATABASE_URL: databaseUrl(a), MODERATION_RECHECK_SECONDS: '1' });
    servers.push(b);
    const admin = await register(a, 'checkadmin');
    await grantAdmin(a, admin);
    const user = await register(b, 'checkuser');
    await listWith(a, admin, 'MASK', ['blimey']);
    await eventually(async () => (await signature(b, user, 'blimey')) === '******', 8000, 'node b masks the new word');
  });
});

/** A moderation service on a local port: 'hook-mask' is masked, 'hook-refuse' refused, 'slow' answered after 2 s. */
async function webhook(seen: unknown[]): Promise<Server> {
  const server = createServer((req, res: ServerResponse) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as { text: string };
      seen.push(body);
      const answer = (value: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (body.text.includes('slow')) {
        const late = setTimeout(() => answer({ action: 'ALLOW' }), 2000);
        res.on('close', () => clearTimeout(late));
      } else if (body.text.includes('hook-refuse')) answer({ action: 'REFUSE' });
      else if (body.text.includes('hook-mask')) answer({ action: 'MASK', text: body.text.replaceAll('hook-mask', '#########') });
      else answer({ action: 'ALLOW' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('the moderation webhook', () => {
  const seen: unknown[] = [];
  let service: Server;
  const servers: Record<'open' | 'closed', TestServer | undefined> = { open: undefined, closed: undefined };
  beforeAll(async () => {
    service = await webhook(seen);
    const url = `http://127.0.0.1:${(service.address() as AddressInfo).port}/moderate`;
    for (const failure of ['open', 'closed'] as const) {
      servers[failure] = await startServer({ MODERATION_WEBHOOK_URL: url, MODERATION_WEBHOOK_TIMEOUT_MS: '300', MODERATION_WEBHOOK_FAIL: failure });
    }
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s?.close()));
    service.closeAllConnections();
    await new Promise((resolve) => service.close(resolve));
  });

  it('should allow, mask and refuse as the service answers, after the word lists', async () => {
    const server = servers.open!;
    const admin = await register(server, 'hookadmin');
    await grantAdmin(server, admin);
    await listWith(server, admin, 'MASK', ['strewth']);
    const user = await register(server, 'hookuser');
    expect(await signature(server, user, 'fine words')).toBe('fine words');
    expect(seen.at(-1)).toEqual({ field: 'signature', text: 'fine words', userId: user.id });
    expect(await signature(server, user, 'a hook-mask b')).toBe('a ######### b');
    expect(await refusal(server, PROFILE, { input: { signature: 'hook-refuse' } }, user.token)).toEqual(moderationRefusal('signature'));
    // The lists ran first: the service saw the text they masked.
    expect(await signature(server, user, 'strewth hook-mask')).toBe('******* #########');
    expect(seen.at(-1)).toMatchObject({ text: '******* hook-mask' });
  });

  it('should let a text through when the service is too slow and failing open, and refuse it when failing closed', async () => {
    const open = await register(servers.open!, 'lateopen');
    const started = Date.now();
    expect(await signature(servers.open!, open, 'slow answer')).toBe('slow answer');
    expect(Date.now() - started).toBeLessThan(1500);
    const closed = await register(servers.closed!, 'lateclosed');
    expect(await refusal(servers.closed!, PROFILE, { input: { signature: 'slow answer' } }, closed.token)).toEqual(moderationRefusal('signature'));
    expect(await signature(servers.closed!, closed, 'quick answer')).toBe('quick answer');
    const failures = (await servers.closed!.app.metrics.moderationWebhookFailures.get()).values;
    expect(failures).toEqual([expect.objectContaining({ labels: { policy: 'closed' }, value: 1 })]);
  });
});

describe('a words file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'im-words-'));
  const file = path.join(dir, 'words.txt');
  writeFileSync(file, '# refused at once\nBlasted\n\n  drat  \n');
  const suite = useServer({ MODERATION_WORDS_FILE: file, MODERATION_FILE_ACTION: 'REFUSE' });

  it('should be loaded at startup into the list named file with its action, logged with no actor', async () => {
    const { server } = suite;
    const input = { username: uniqueName('filed'), password: 'correct horse battery', nickname: 'DRAT' };
    expect(await refusal(server, REGISTER, { input })).toEqual(moderationRefusal('nickname'));
    const admin = await register(server, 'fileadmin');
    await grantAdmin(server, admin);
    const { wordLists } = await ok(server, LISTS, {}, admin.token);
    const list = wordLists.find((l: { name: string }) => l.name === 'file');
    expect(list).toMatchObject({ action: 'REFUSE', words: ['blasted', 'drat'] });
    const { auditLog } = await ok(server, AUDIT, { subjectId: list.id }, admin.token);
    expect(auditLog).toEqual([expect.objectContaining({ action: 'SEED_WORD_LIST', actorId: null })]);
  });
});
