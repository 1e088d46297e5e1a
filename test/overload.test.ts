import { befriend, ok, register } from './support/client';
import { post, raw, type RawResponse } from './support/http';
import { useServer } from './support/server';

const SEND = 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq } }';

describe('a node past HTTP_MAX_IN_FLIGHT', () => {
  const suite = useServer({ HTTP_MAX_IN_FLIGHT: '2' });

  it('refuses the excess at once with 503 and Retry-After, stores none of it, and loses none of what it accepted', async () => {
    const [alice, bob] = [await register(suite.server, 'busya'), await register(suite.server, 'busyb')];
    const conversationId = await befriend(suite.server, alice, bob);
    const answers: RawResponse[] = [];
    // Concurrent sends on separate connections: more than two are in flight at once in any burst of this size.
    for (let burst = 0; burst < 4 && !answers.some((a) => a.status === 503); burst++) {
      const sends = Array.from({ length: 20 }, (_, i) => {
        const body = JSON.stringify({ query: SEND, variables: { i: { toUserId: bob.id, content: `m${burst}-${i}`, clientMessageId: `busy-${burst}-${i}` } } });
        return raw(suite.server, '/graphql', post(body, 'application/json', { authorization: `Bearer ${alice.token}` }));
      });
      answers.push(...(await Promise.all(sends)));
    }
    const refused = answers.filter((a) => a.status === 503);
    const accepted = answers.filter((a) => a.status === 200);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length + accepted.length).toBe(answers.length);
    for (const answer of refused) {
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(answer.json.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfterMs: 1000 });
      expect(answer.json.errors[0].message).toMatch(/server busy/);
    }
    for (const answer of accepted) expect(answer.json.data.sendMessage.id).toBeTruthy();
    const stored: Array<{ id: string; seq: number }> = (await ok(suite.server, 'query($c: ID!) { messages(conversationId: $c, limit: 100) { id seq } }', { c: conversationId }, alice.token)).messages;
    expect(stored.map((m) => m.id).sort()).toEqual(accepted.map((a) => a.json.data.sendMessage.id).sort());
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: accepted.length }, (_, i) => i + 1));
  });
});
