import { createClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { register, type GqlResponse, type TestUser } from './support/client';
import { startServer, useServer, type TestServer } from './support/server';

const PASSWORD = 'correct horse battery';
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { accessToken user { id } } }`;
const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { accessToken } }`;
const REFRESH = `mutation($t: String!) { refreshToken(refreshToken: $t) { refreshToken } }`;
const CHANGE_PASSWORD = `mutation($o: String!, $n: String!) { changePassword(oldPassword: $o, newPassword: $n) }`;

/** Every limit off: each block turns on the ones it tests. */
const OFF = {
  RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT: '0',
  RATE_LIMIT_LOGIN_FAILURES_PER_ADDRESS: '0',
  RATE_LIMIT_REFRESH_FAILURES_PER_ADDRESS: '0',
  RATE_LIMIT_PASSWORD_FAILURES_PER_ACCOUNT: '0',
  RATE_LIMIT_REGISTRATIONS_PER_ADDRESS: '0',
};

/** POSTs an operation as the client at `from` (an X-Forwarded-For entry, believed only with TRUST_PROXY). */
async function call(server: TestServer, query: string, variables: Record<string, unknown>, from?: string, token?: string): Promise<GqlResponse> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(from ? { 'x-forwarded-for': from } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as object) };
}

const code = (result: GqlResponse): string | undefined => result.errors?.[0]?.extensions?.code;
const login = (server: TestServer, username: string, password: string, from?: string) =>
  call(server, LOGIN, { input: { username, password, terminal: 'APP' } }, from);

let names = 0;
const newName = () => `thr${process.pid % 1000}_${names++}`;

/** The refusal's retry time, checked to lie within the window it came from. */
function retryAfter(result: GqlResponse, windowSeconds: number): number {
  expect(code(result)).toBe('RATE_LIMITED');
  const retryAfterMs = (result.errors![0]!.extensions as { retryAfterMs?: number }).retryAfterMs!;
  expect(retryAfterMs).toBeGreaterThan((windowSeconds - 60) * 1000);
  expect(retryAfterMs).toBeLessThanOrEqual(windowSeconds * 1000);
  return retryAfterMs;
}

describe('login: failed passwords per account', () => {
  const suite = useServer({ ...OFF, RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT: '3' });

  it('should refuse the account with RATE_LIMITED and the retry time after 3 failures, even with the right password', async () => {
    const user = await register(suite.server, 'victim');
    for (let i = 0; i < 3; i++) expect(code(await login(suite.server, user.username, 'wrong password'))).toBe('UNAUTHENTICATED');
    const refused = await login(suite.server, user.username.toUpperCase(), PASSWORD);
    retryAfter(refused, 900);
    expect(refused.errors![0]!.message).toMatch(/^login: too many failed attempts for this username; retry in \d+ s$/);
    // Another account from the same address is not affected.
    const other = await register(suite.server, 'bystander');
    expect(code(await login(suite.server, other.username, PASSWORD))).toBeUndefined();
  });

  it('should not count successful logins', async () => {
    const user = await register(suite.server, 'regular');
    for (let i = 0; i < 6; i++) expect(code(await login(suite.server, user.username, PASSWORD))).toBeUndefined();
    for (let i = 0; i < 2; i++) expect(code(await login(suite.server, user.username, 'wrong password'))).toBe('UNAUTHENTICATED');
    expect(code(await login(suite.server, user.username, PASSWORD))).toBeUndefined();
  });

  it('should let exactly the limit of concurrent wrong guesses be checked', async () => {
    const user = await register(suite.server, 'guessed');
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => login(suite.server, user.username, `guess number ${i}`)));
    expect(results.filter((r) => code(r) === 'UNAUTHENTICATED')).toHaveLength(3);
    expect(results.filter((r) => code(r) === 'RATE_LIMITED')).toHaveLength(9);
  });

  it('should count usernames that do not exist like those that do', async () => {
    const ghost = newName();
    for (let i = 0; i < 3; i++) expect(code(await login(suite.server, ghost, 'wrong password'))).toBe('UNAUTHENTICATED');
    retryAfter(await login(suite.server, ghost, 'wrong password'), 900);
  });
});

describe('login: failed passwords per client address', () => {
  const suite = useServer({ ...OFF, RATE_LIMIT_LOGIN_FAILURES_PER_ADDRESS: '4', TRUST_PROXY: '1' });
  let users: TestUser[];
  beforeAll(async () => {
    users = [];
    for (let i = 0; i < 3; i++) users.push(await register(suite.server, 'office'));
  });

  it('should let an office behind one address log in as often as it likes, failures aside', async () => {
    for (let round = 0; round < 4; round++) {
      for (const user of users) expect(code(await login(suite.server, user.username, PASSWORD, '198.51.100.7'))).toBeUndefined();
    }
    for (let i = 0; i < 3; i++) expect(code(await login(suite.server, users[i]!.username, 'wrong password', '198.51.100.7'))).toBe('UNAUTHENTICATED');
    expect(code(await login(suite.server, users[0]!.username, PASSWORD, '198.51.100.7'))).toBeUndefined();
  });

  it('should refuse an address after its failures across many usernames, and only that address', async () => {
    for (let i = 0; i < 4; i++) expect(code(await login(suite.server, newName(), 'wrong password', '203.0.113.9'))).toBe('UNAUTHENTICATED');
    const refused = await login(suite.server, users[1]!.username, PASSWORD, '203.0.113.9');
    retryAfter(refused, 900);
    expect(refused.errors![0]!.message).toContain('login: too many failed attempts from this address');
    expect(code(await login(suite.server, users[1]!.username, PASSWORD, '203.0.113.10'))).toBeUndefined();
  });

  it('should count the entry the trusted proxy appended, not what the client wrote before it', async () => {
    for (let i = 0; i < 4; i++) expect(code(await login(suite.server, newName(), 'wrong password', `10.0.0.${i}, 203.0.113.20`))).toBe('UNAUTHENTICATED');
    retryAfter(await login(suite.server, users[2]!.username, PASSWORD, '10.9.9.9, 203.0.113.20'), 900);
  });

  it('should count an IPv6 client by its /64', async () => {
    for (let i = 0; i < 4; i++) expect(code(await login(suite.server, newName(), 'wrong password', `2001:db8:5:6:${i + 1}::1`))).toBe('UNAUTHENTICATED');
    retryAfter(await login(suite.server, users[0]!.username, PASSWORD, '2001:db8:5:6:ffff:ffff:ffff:ffff'), 900);
    expect(code(await login(suite.server, users[0]!.username, PASSWORD, '2001:db8:5:7::1'))).toBeUndefined();
  });
});

describe('login without TRUST_PROXY', () => {
  const suite = useServer({ ...OFF, RATE_LIMIT_LOGIN_FAILURES_PER_ADDRESS: '2' });

  it('should ignore X-Forwarded-For, so a client cannot escape its limit by writing one', async () => {
    const user = await register(suite.server, 'spoofer');
    for (let i = 0; i < 2; i++) expect(code(await login(suite.server, newName(), 'wrong password', `192.0.2.${i}`))).toBe('UNAUTHENTICATED');
    retryAfter(await login(suite.server, user.username, PASSWORD, '192.0.2.200'), 900);
  });
});

describe('login over graphql-ws', () => {
  const suite = useServer({ ...OFF, RATE_LIMIT_LOGIN_FAILURES_PER_ADDRESS: '2' });

  it('should count against the address the socket came from, as over HTTP', async () => {
    const user = await register(suite.server, 'socketeer');
    for (let i = 0; i < 2; i++) expect(code(await login(suite.server, newName(), 'wrong password'))).toBe('UNAUTHENTICATED');
    const client = createClient({ url: suite.server.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${user.token}` }, retryAttempts: 0 });
    try {
      const results: GqlResponse[] = [];
      for await (const result of client.iterate({ query: LOGIN, variables: { input: { username: user.username, password: PASSWORD } } })) {
        results.push(result as GqlResponse);
      }
      expect(results).toHaveLength(1);
      retryAfter(results[0]!, 900);
    } finally {
      await client.dispose();
    }
  });
});

describe('register: registrations per client address', () => {
  const suite = useServer({ ...OFF, RATE_LIMIT_REGISTRATIONS_PER_ADDRESS: '3', RATE_LIMIT_REGISTRATION_WINDOW_SECONDS: '3600', TRUST_PROXY: '1' });
  const signUp = (from: string) => call(suite.server, REGISTER, { input: { username: newName(), password: PASSWORD, nickname: 'n' } }, from);

  it('should refuse the address after 3 registrations an hour, and only that address', async () => {
    for (let i = 0; i < 3; i++) expect(code(await signUp('198.51.100.50'))).toBeUndefined();
    const refused = await signUp('198.51.100.50');
    retryAfter(refused, 3600);
    expect(refused.errors![0]!.message).toContain('register: too many registrations from this address');
    expect(code(await signUp('198.51.100.51'))).toBeUndefined();
  });
});

describe('refreshToken: refused tokens per client address', () => {
  const suite = useServer({ ...OFF, RATE_LIMIT_REFRESH_FAILURES_PER_ADDRESS: '3' });

  it('should not count rotations that work, and refuse the address after 3 refused tokens', async () => {
    const user = await register(suite.server, 'refresher');
    let token = user.refreshToken;
    for (let i = 0; i < 5; i++) {
      const rotated = await call(suite.server, REFRESH, { t: token });
      expect(code(rotated)).toBeUndefined();
      token = rotated.data.refreshToken.refreshToken;
    }
    for (const bad of ['garbage', 'x.y', 'nosuchsession.secret']) expect(code(await call(suite.server, REFRESH, { t: bad }))).toBe('UNAUTHENTICATED');
    const refused = await call(suite.server, REFRESH, { t: token });
    retryAfter(refused, 900);
    expect(refused.errors![0]!.message).toContain('refreshToken');
  });
});

describe('changePassword: wrong old passwords per account', () => {
  const suite = useServer({ ...OFF, RATE_LIMIT_PASSWORD_FAILURES_PER_ACCOUNT: '2' });
  const change = (user: TestUser, old: string) => call(suite.server, CHANGE_PASSWORD, { o: old, n: 'a brand new password' }, undefined, user.token);

  it('should refuse the account after 2 wrong old passwords, and only that account', async () => {
    const user = await register(suite.server, 'chpw');
    for (let i = 0; i < 2; i++) expect(code(await change(user, 'not my password'))).toBe('BAD_USER_INPUT');
    const refused = await change(user, PASSWORD);
    retryAfter(refused, 900);
    expect(refused.errors![0]!.message).toContain('oldPassword');
    const other = await register(suite.server, 'chpwok');
    expect((await change(other, PASSWORD)).data?.changePassword).toBe(true);
  });
});

describe('limits set to 0', () => {
  const suite = useServer(OFF);

  it('should turn every front-door limit off', async () => {
    const user = await register(suite.server, 'unlimited');
    // One more than each default limit.
    for (let i = 0; i < 11; i++) expect(code(await login(suite.server, user.username, 'wrong password'))).toBe('UNAUTHENTICATED');
    expect(code(await login(suite.server, user.username, PASSWORD))).toBeUndefined();
    for (let i = 0; i < 21; i++) await register(suite.server, 'many');
  });
});

describe('the default limits', () => {
  const suite = useServer({ RATE_LIMIT_REGISTRATIONS_PER_ADDRESS: '' });

  it('should refuse an account after 10 failed logins and an address after 20 registrations', async () => {
    const user = await register(suite.server, 'defaults');
    for (let i = 0; i < 10; i++) expect(code(await login(suite.server, user.username, 'wrong password'))).toBe('UNAUTHENTICATED');
    retryAfter(await login(suite.server, user.username, PASSWORD), 900);
    for (let i = 1; i < 20; i++) await register(suite.server, 'quota');
    retryAfter(await call(suite.server, REGISTER, { input: { username: newName(), password: PASSWORD, nickname: 'n' } }), 3600);
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
(redisUrl ? describe : describe.skip)('limits in a cluster (REDIS_URL)', () => {
  const env = { ...OFF, RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT: '3', REDIS_URL: redisUrl ?? '', REDIS_KEY_PREFIX: `imthrottle:${process.pid}:${Date.now()}:` };
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    [a, b] = await Promise.all([startServer(env), startServer(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    const redis = new Redis(redisUrl!);
    const keys = await redis.keys(`${env.REDIS_KEY_PREFIX}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('should count the failures of one account on every node together', async () => {
    const username = newName();
    expect(code(await login(a, username, 'wrong password'))).toBe('UNAUTHENTICATED');
    expect(code(await login(b, username, 'wrong password'))).toBe('UNAUTHENTICATED');
    expect(code(await login(a, username, 'wrong password'))).toBe('UNAUTHENTICATED');
    retryAfter(await login(b, username, 'wrong password'), 900);
  });
});
