import type { MessageFieldsFragment } from '../client/generated/graphql';
import { Sequencer } from '../client/sdk/ordering';

/** A message of conversation `c1` with `seq` (only what the sequencer reads matters). */
function message(seq: number, conversationId = 'c1'): MessageFieldsFragment {
  return {
    id: `${conversationId}-${seq}`,
    conversationId,
    conversationType: 'PRIVATE',
    seq,
    type: 'TEXT',
    content: `message ${seq}`,
    status: 'SENT',
    clientMessageId: `cm-${seq}`,
    createdAt: new Date(0).toISOString(),
    readCount: null,
    sender: { id: 'u1', username: 'u1', nickname: 'u1', avatarUrl: null, signature: null, online: true },
    mentions: [],
    media: null,
  };
}

/** A sequencer whose fetches answer from `stored` (the server's messages) and are recorded. */
function sequencer(gapWaitMs: number, stored: MessageFieldsFragment[] = []) {
  const delivered: number[] = [];
  const sources: string[] = [];
  const fetches: Array<[number, number]> = [];
  const seq: Sequencer = new Sequencer({
    deliver: (m, source) => {
      delivered.push(m.seq);
      sources.push(`${m.seq}:${source}`);
    },
    fetchRange: async (conversationId, from, to) => {
      fetches.push([from, to]);
      for (const m of stored) if (m.conversationId === conversationId && m.seq >= from && m.seq <= to) seq.accept(m, 'fetch');
    },
    sync: async () => undefined,
    failed: (error) => {
      throw error;
    },
    settled: () => undefined,
    gapWaitMs,
  });
  return { seq, delivered, sources, fetches };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the SDK sequencer: a message that overtook its predecessor', () => {
  it('should wait for the predecessor still on its way and fetch nothing when it arrives within gapWaitMs', async () => {
    const { seq, delivered, fetches } = sequencer(100);
    seq.accept(message(1), 'live');
    seq.accept(message(3), 'live');
    expect(delivered).toEqual([1]);
    await sleep(20);
    seq.accept(message(2), 'live');
    expect(delivered).toEqual([1, 2, 3]);
    await sleep(150);
    expect(fetches).toEqual([]);
  });

  it('should fetch the missing range once gapWaitMs passed without it, and hand everything on in order', async () => {
    const { seq, delivered, fetches } = sequencer(50, [message(2), message(3)]);
    seq.accept(message(1), 'live');
    seq.accept(message(4), 'live');
    seq.accept(message(5), 'live');
    expect(delivered).toEqual([1]);
    await sleep(20);
    expect(fetches).toEqual([]);
    await sleep(80);
    expect(fetches).toEqual([[2, 3]]);
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
  });

  it('should fetch an open gap at once when asked to after a catch-up', async () => {
    const { seq, delivered, fetches } = sequencer(10_000, [message(2)]);
    seq.accept(message(1), 'live');
    seq.accept(message(3), 'live');
    seq.retryGaps();
    await sleep(0);
    expect(fetches).toEqual([[2, 2]]);
    expect(delivered).toEqual([1, 2, 3]);
  });

  it('should forget a waiting gap on reset, so that its timer touches nothing of the next cursor', async () => {
    const { seq, delivered, fetches } = sequencer(30, [message(2)]);
    seq.accept(message(1), 'live');
    seq.accept(message(3), 'live');
    seq.reset(new Map());
    await sleep(60);
    expect(fetches).toEqual([]);
    expect(delivered).toEqual([1]);
  });
});

describe('the SDK sequencer: how each message came', () => {
  it('should hand each message on with the way it first arrived, a held one included', async () => {
    const { seq, sources } = sequencer(10, [message(2)]);
    seq.accept(message(1), 'sent');
    seq.accept(message(3), 'live');
    seq.accept(message(3), 'sync');
    await sleep(40);
    seq.accept(message(4), 'sync');
    expect(sources).toEqual(['1:sent', '2:fetch', '3:live', '4:sync']);
  });
});
