import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { gql, ok, register } from './support/client';
import { expectNoStack, post, raw } from './support/http';
import { startServer, type TestServer } from './support/server';

/** The only root fields a client may use without an access token (besides introspection). */
const PUBLIC_FIELDS = new Set(['register', 'login', 'refreshToken']);

/** A GraphQL literal of `type` with every required part filled with a dummy value. */
function dummyLiteral(type: GraphQLInputType): string {
  if (isNonNullType(type)) return dummyLiteral(type.ofType);
  if (isListType(type)) return `[${dummyLiteral(type.ofType)}]`;
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields())
      .filter((f) => isNonNullType(f.type) && f.defaultValue === undefined)
      .map((f) => `${f.name}: ${dummyLiteral(f.type)}`);
    return `{ ${fields.join(', ')} }`;
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'ID':
        return '"1"';
      case 'String':
        return '"x"';
      case 'Int':
        return '1';
      case 'Float':
        return '1.5';
      case 'Boolean':
        return 'true';
      case 'DateTime':
        return '"2020-01-01T00:00:00.000Z"';
      default:
        return '"x"';
    }
  }
  throw new Error(`no dummy value for ${String(type)}`);
}

/** A minimal valid operation calling one root field with dummy values for its required arguments. */
function minimalOperation(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): string {
  const args = field.args
    .filter((a) => isNonNullType(a.type) && a.defaultValue === undefined)
    .map((a) => `${a.name}: ${dummyLiteral(a.type)}`);
  const call = args.length ? `${field.name}(${args.join(', ')})` : field.name;
  const selection = isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';
  return `${kind} { ${call}${selection} }`;
}

async function serverSchema(server: TestServer): Promise<GraphQLSchema> {
  const data = await ok<IntrospectionQuery>(server, getIntrospectionQuery());
  return buildClientSchema(data);
}

describe('protection', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startServer()));
  afterAll(() => server.close());

  describe('authorization', () => {
    it('should require a token for every Query and Mutation field except register, login and refreshToken', async () => {
      const schema = await serverSchema(server);
      const operations: Array<{ name: string; query: string }> = [];
      for (const [kind, type] of [
        ['query', schema.getQueryType()],
        ['mutation', schema.getMutationType()],
      ] as const) {
        for (const field of Object.values(type!.getFields())) {
          if (PUBLIC_FIELDS.has(field.name)) continue;
          operations.push({ name: `${kind}.${field.name}`, query: minimalOperation(kind, field) });
        }
      }
      // The contract's fields are all there (a broken introspection must not make this test vacuous).
      const names = operations.map((o) => o.name);
      for (const expected of ['query.me', 'query.messages', 'query.syncMessages', 'mutation.logout', 'mutation.changePassword', 'mutation.sendMessage', 'mutation.createUpload', 'mutation.dissolveGroup']) {
        expect(names).toContain(expected);
      }
      expect(operations.length).toBeGreaterThanOrEqual(31);

      const outcomes: Record<string, string> = {};
      const expected: Record<string, string> = {};
      for (const op of operations) {
        const result = await gql(server, op.query);
        outcomes[op.name] = result.errors?.length
          ? `${result.errors[0]!.extensions?.code}${result.errors.length > 1 ? ` (+${result.errors.length - 1})` : ''}`
          : `no error: ${JSON.stringify(result.data)}`;
        expected[op.name] = 'UNAUTHENTICATED';
        if (result.errors?.[0]?.extensions?.code === 'BAD_USER_INPUT') outcomes[op.name] += ` ${result.errors[0]!.message} in ${op.query}`;
      }
      expect(outcomes).toEqual(expected);
    });

    it('should answer the public fields and introspection without a token', async () => {
      const reg = await gql(
        server,
        `mutation { register(input: { username: "pub_${process.pid % 1000}", password: "correct horse battery", nickname: "p" }) { user { username } } }`,
      );
      expect(reg.errors).toBeUndefined();
      expect(reg.data.register.user.username).toBe(`pub_${process.pid % 1000}`);
      const typename = await gql(server, `{ __typename }`);
      expect(typename.data).toEqual({ __typename: 'Query' });
      const type = await gql(server, `{ __type(name: "User") { name } }`);
      expect(type.data).toEqual({ __type: { name: 'User' } });
    });

    it('should answer a protected field once a token is given', async () => {
      const user = await register(server, 'prot');
      const data = await ok(server, `{ me { id } friends { __typename } contacts { __typename } }`, undefined, user.token);
      expect(data).toEqual({ me: { id: user.id }, friends: [], contacts: [] });
    });
  });

  describe('GraphQL over HTTP', () => {
    it('should answer a query over GET with 200 and JSON', async () => {
      const res = await raw(server, `/graphql?query=${encodeURIComponent('{__typename}')}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/(graphql-response\+)?json/);
      expect(res.json).toEqual({ data: { __typename: 'Query' } });
    });

    it('should refuse a mutation over GET with 405', async () => {
      const user = await register(server, 'getmut');
      const query = encodeURIComponent('mutation { logout }');
      const res = await raw(server, `/graphql?query=${query}`, { headers: { authorization: `Bearer ${user.token}` } });
      expect(res.status).toBe(405);
      expectNoStack(res.text);
      // And it did not run: the session still works.
      expect((await ok(server, `{ me { id } }`, undefined, user.token)).me.id).toBe(user.id);
    });

    it('should refuse invalid JSON with 400 and BAD_USER_INPUT', async () => {
      const res = await raw(server, '/graphql', post('{"query": "{ __typename }"'));
      expect(res.status).toBe(400);
      expect(res.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expectNoStack(res.text);
    });

    it('should refuse an unsupported content-type with 415', async () => {
      const res = await raw(server, '/graphql', post('{ __typename }', 'text/plain'));
      expect(res.status).toBe(415);
      expect(res.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      const form = await raw(server, '/graphql', post('query=%7B__typename%7D', 'application/x-www-form-urlencoded'));
      expect(form.status).toBe(415);
    });

    it('should accept application/graphql-response+json and charset parameters as JSON', async () => {
      const res = await raw(server, '/graphql', post(JSON.stringify({ query: '{ __typename }' }), 'application/json; charset=utf-8'));
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ data: { __typename: 'Query' } });
    });

    it('should refuse an unknown field with BAD_USER_INPUT', async () => {
      const res = await gql(server, `{ noSuchField }`);
      expect(res.data).toBeUndefined();
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toContain('noSuchField');
      expectNoStack(JSON.stringify(res));
    });

    it('should refuse a syntax error and a wrongly typed variable with BAD_USER_INPUT', async () => {
      expect((await gql(server, `{ me { id `)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const res = await gql(server, `query($id: ID!) { user(id: $id) { id } }`, { id: { not: 'an id' } });
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expectNoStack(JSON.stringify(res));
    });

    it('should never put a stack trace in resolver errors', async () => {
      const user = await register(server, 'nostack');
      const responses = [
        await gql(server, `{ me { id } }`),
        await gql(server, `{ me { id } }`, undefined, 'garbage'),
        await gql(server, `mutation { register(input: { username: "a", password: "x", nickname: "" }) { accessToken } }`),
        await gql(server, `{ messages(conversationId: "not-an-id") { id } }`, undefined, user.token),
        await gql(server, `mutation { createUpload(input: { filename: "a", contentType: "b", size: 1 }) { url } }`, undefined, user.token),
      ];
      for (const res of responses) {
        expect(res.errors?.length).toBeGreaterThan(0);
        expectNoStack(JSON.stringify(res));
      }
    });
  });

  describe('internal errors', () => {
    let broken: TestServer;
    beforeAll(async () => (broken = await startServer()));
    afterAll(() => broken.close());

    it('should report an internal failure as INTERNAL_SERVER_ERROR with a generic message and no stack trace', async () => {
      const user = await register(broken, 'internal');
      // A real failure: the database goes away under the running server.
      await broken.app.db.close();
      const res = await gql(broken, `{ friends { __typename } }`, undefined, user.token);
      // A cached live-session check may let the resolver run; either way the internals must not leak.
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0]).toEqual({ message: 'Internal server error', path: ['friends'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      expectNoStack(JSON.stringify(res));
    });
  });

  describe('operation limits', () => {
    let limited: TestServer;
    beforeAll(async () => (limited = await startServer({ QUERY_MAX_DEPTH: '3', QUERY_MAX_COST: '10', BODY_LIMIT_BYTES: '2048' })));
    afterAll(() => limited.close());

    it('should refuse a query deeper than QUERY_MAX_DEPTH with BAD_USER_INPUT', async () => {
      const user = await register(limited, 'deep');
      const deep = await gql(limited, `{ contacts { group { members { user { id } } } } }`, undefined, user.token);
      expect(deep.data).toBeUndefined();
      expect(deep.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(deep.errors?.[0]?.message).toMatch(/depth/i);
      // One level less passes validation (and runs; one item a page keeps it within the cost limit of 10).
      const shallow = await gql(limited, `{ contacts(first: 1) { group { members(first: 1) { role } } } }`, undefined, user.token);
      expect(shallow.errors).toBeUndefined();
      expect(shallow.data).toEqual({ contacts: [] });
    });

    it('should refuse a query costlier than QUERY_MAX_COST with BAD_USER_INPUT', async () => {
      const user = await register(limited, 'costly');
      const fields = 'id username nickname avatarUrl signature online';
      const cheap = await gql(limited, `{ me { ${fields} } }`, undefined, user.token);
      expect(cheap.errors).toBeUndefined();
      const costly = await gql(limited, `{ a: me { ${fields} } b: me { ${fields} } }`, undefined, user.token);
      expect(costly.data).toBeUndefined();
      expect(costly.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(costly.errors?.[0]?.message).toContain('above the limit of 10');
      expectNoStack(JSON.stringify(costly));
    });

    it('should refuse a body over BODY_LIMIT_BYTES with 413', async () => {
      const padding = ' '.repeat(3000);
      const res = await raw(limited, '/graphql', post(JSON.stringify({ query: `{ __typename${padding}}` })));
      expect(res.status).toBe(413);
      expect(res.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      // Just under the limit is fine.
      const fits = await raw(limited, '/graphql', post(JSON.stringify({ query: `{ __typename${' '.repeat(1900)}}` })));
      expect(fits.status).toBe(200);
      expect(fits.json).toEqual({ data: { __typename: 'Query' } });
    });

    it('should refuse a much larger body with 413 too', async () => {
      const res = await raw(limited, '/graphql', post(JSON.stringify({ query: `{ __typename }`, pad: 'x'.repeat(512 * 1024) })));
      expect(res.status).toBe(413);
    });
  });

  describe('introspection switch', () => {
    let closed: TestServer;
    beforeAll(async () => (closed = await startServer({ GRAPHQL_INTROSPECTION: 'false' })));
    afterAll(() => closed.close());

    it('should refuse introspection when GRAPHQL_INTROSPECTION=false', async () => {
      const res = await gql(closed, `{ __schema { queryType { name } } }`);
      expect(res.data).toBeUndefined();
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/introspection/i);
      const type = await gql(closed, `{ __type(name: "User") { name } }`);
      expect(type.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      // Still serving ordinary operations.
      expect((await gql(closed, `{ __typename }`)).data).toEqual({ __typename: 'Query' });
    });

    it('should allow introspection by default', async () => {
      const res = await gql(server, `{ __schema { queryType { name } } }`);
      expect(res.errors).toBeUndefined();
      expect(res.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    });
  });

  describe('health', () => {
    it('should answer GET /healthz with 200', async () => {
      const res = await raw(server, '/healthz');
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ status: 'ok' });
    });

    it("should answer GET /readyz with 200 and status 'ready'", async () => {
      const res = await raw(server, '/readyz');
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ status: 'ready' });
    });

    it('should answer 404 for an unknown path', async () => {
      const res = await raw(server, '/no-such-path');
      expect(res.status).toBe(404);
    });
  });

  describe('request id', () => {
    it('should echo the x-request-id header', async () => {
      const res = await raw(server, '/graphql', post(JSON.stringify({ query: '{ __typename }' }), 'application/json', { 'x-request-id': 'req-abc-123' }));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBe('req-abc-123');
    });

    it('should echo the x-request-id header on refused requests too', async () => {
      const res = await raw(server, '/graphql', post('{not json', 'application/json', { 'x-request-id': 'req-bad-json' }));
      expect(res.status).toBe(400);
      expect(res.headers.get('x-request-id')).toBe('req-bad-json');
    });

    it('should make up a request id when none is sent', async () => {
      const res = await raw(server, '/graphql', post(JSON.stringify({ query: '{ __typename }' })));
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });
  });
});
