import type { RequestContext } from '../src/auth/context';
import { createLogger } from '../src/common/logger';
import { createSchema } from '../src/schema';
import { DirectExecution } from '../src/transport/direct-execution';
import { Metrics } from '../src/metrics/metrics';
import { befriend, register } from './support/client';
import { post, raw, type RawResponse } from './support/http';
import { useServer } from './support/server';

/**
 * Requests with a valid document are executed without Apollo's pipeline (transport/direct-execution.ts); the
 * rest still go to Apollo. A body with `extensions` is always left to Apollo (it may carry a persisted query), so
 * sending the same request with `"extensions": {}`, which Apollo ignores, shows what Apollo itself answers.
 */
describe('direct execution', () => {
  const suite = useServer();

  /** The same request answered directly and by Apollo. */
  async function bothWays(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<[RawResponse, RawResponse]> {
    const direct = await raw(suite.server, '/graphql', post(JSON.stringify(body), 'application/json', headers));
    const apollo = await raw(suite.server, '/graphql', post(JSON.stringify({ ...body, extensions: {} }), 'application/json', headers));
    return [direct, apollo];
  }

  function expectSameAnswer([direct, apollo]: [RawResponse, RawResponse]): void {
    expect(direct.status).toBe(apollo.status);
    for (const header of ['content-type', 'cache-control', 'content-length', 'vary']) {
      expect([header, direct.headers.get(header)]).toEqual([header, apollo.headers.get(header)]);
    }
    expect(direct.text).toBe(apollo.text);
  }

  it('answers a query exactly as Apollo does, for each Accept header Apollo serves', async () => {
    const user = await register(suite.server, 'direct');
    const body = { query: 'query Me { me { id username } }', operationName: 'Me' };
    for (const accept of [undefined, 'application/json', 'application/graphql-response+json, application/json;q=0.9', '*/*']) {
      const headers = { authorization: `Bearer ${user.token}`, ...(accept ? { accept } : {}) };
      const answers = await bothWays(body, headers);
      expectSameAnswer(answers);
      expect(answers[0].json.data.me.username).toBe(user.username);
    }
  });

  it('formats a refused mutation exactly as Apollo does, and runs it once', async () => {
    const [a, b] = [await register(suite.server, 'dira'), await register(suite.server, 'dirb')];
    const input = { toUserId: b.id, content: 'not yet friends', clientMessageId: 'direct-1' };
    const body = { query: 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }', variables: { i: input } };
    const answers = await bothWays(body, { authorization: `Bearer ${a.token}` });
    expectSameAnswer(answers);
    expect(answers[0].json.errors[0].extensions.code).toBe('FORBIDDEN');

    await befriend(suite.server, a, b);
    const sent = await raw(suite.server, '/graphql', post(JSON.stringify(body), 'application/json', { authorization: `Bearer ${a.token}` }));
    const again = await raw(suite.server, '/graphql', post(JSON.stringify(body), 'application/json', { authorization: `Bearer ${a.token}` }));
    // A resend answers with the stored message: the mutation was stored once.
    expect(sent.json.data.sendMessage.id).toBeTruthy();
    expect(again.json.data.sendMessage.id).toBe(sent.json.data.sendMessage.id);
  });

  it('leaves variables that do not coerce to Apollo: 400 with BAD_USER_INPUT, and nothing runs', async () => {
    const user = await register(suite.server, 'dirv');
    const body = { query: 'query($id: ID!) { user(id: $id) { id } }', variables: { id: { not: 'an id' } } };
    const answers = await bothWays(body, { authorization: `Bearer ${user.token}` });
    expectSameAnswer(answers);
    expect(answers[0].status).toBe(400);
    expect(answers[0].json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('leaves an Accept header that Apollo refuses to Apollo (406)', async () => {
    const answers = await bothWays({ query: '{ __typename }' }, { accept: 'text/csv' });
    expectSameAnswer(answers);
    expect(answers[0].status).toBe(406);
  });
});

describe('which requests direct execution takes', () => {
  let direct: DirectExecution;
  const context = async (): Promise<RequestContext> => ({ requestId: 't', clientAddress: '127.0.0.1', log: createLogger('silent'), loaders: undefined as never });
  beforeAll(async () => {
    direct = new DirectExecution({ schema: await createSchema(), limits: { maxDepth: 10, maxCost: 50_000 }, introspection: false, log: createLogger('silent'), metrics: new Metrics() });
  });
  const run = (body: unknown, method = 'POST', accept?: string) => direct.run({ method, accept, body }, context);

  it('executes a POSTed query or mutation with a valid document', async () => {
    expect(await run({ query: '{ __typename }' })).toEqual({ status: 200, contentType: 'application/json; charset=utf-8', body: '{"data":{"__typename":"Query"}}\n' });
    expect((await run({ query: 'mutation { __typename }' }))?.body).toBe('{"data":{"__typename":"Mutation"}}\n');
  });

  it('leaves to Apollo what it might answer differently', async () => {
    const left = [
      run({ query: '{ __typename }' }, 'GET'),
      run([{ query: '{ __typename }' }]),
      run({ query: '{ __typename }', extensions: { persistedQuery: { version: 1 } } }),
      run({ query: '{ nope }' }),
      run({ query: '{ __schema { queryType { name } } }' }),
      run({ query: 'query A { __typename } query B { __typename }' }),
      run({ query: 'subscription { events { __typename } }' }),
      run({ query: '{ __typename }', variables: 'a string' }),
      run({ query: '{ __typename }' }, 'POST', 'text/csv'),
      run({ query: 'query($id: ID!) { user(id: $id) { id } }', variables: {} }),
    ];
    expect(await Promise.all(left)).toEqual(left.map(() => undefined));
  });
});
