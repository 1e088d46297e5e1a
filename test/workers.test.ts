import { request } from 'node:http';
import { befriend, ok, register } from './support/client';
import { clusterAvailable, scratchDatabase, startNode, stopNode, type NodeProcess } from './support/cluster';
import { eventually } from './support/cluster-suite';

const describeCluster = clusterAvailable ? describe : describe.skip;

/** Pids of the processes that logged `listening`, in order. */
const listeningPids = (node: NodeProcess): number[] =>
  node.logs.flatMap((line) => {
    try {
      const entry = JSON.parse(line);
      return entry.msg === 'listening' ? [Number(entry.pid)] : [];
    } catch {
      return [];
    }
  });

/** POSTs `body` to /graphql on a connection of its own, and resolves with the answer's text. */
function onNewConnection(url: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/graphql`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(text)).on('error', reject);
    });
    req.on('error', reject).end(body);
  });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describeCluster('a platform role run as IM_WORKERS processes', () => {
  let platform: NodeProcess;
  let drop: () => Promise<void>;
  const keyPrefix = `imworkers:${process.pid}:${Date.now()}:`;

  beforeAll(async () => {
    const db = await scratchDatabase();
    drop = db.drop;
    platform = await startNode('platform', {
      DATABASE_URL: db.url,
      REDIS_URL: process.env.TEST_REDIS_URL!,
      REDIS_KEY_PREFIX: keyPrefix,
      JWT_SECRET: 'workers-test-secret-long-enough',
      IM_ROLE: 'platform',
      IM_WORKERS: '2',
    });
    await eventually(async () => listeningPids(platform).length === 2, 'both workers listening', 20_000);
  }, 60_000);

  afterAll(async () => {
    for (const pid of listeningPids(platform)) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await stopNode(platform, 'SIGKILL');
    await drop();
  }, 30_000);

  it('serves every request from workers that share one port, each its own process', async () => {
    const pids = listeningPids(platform);
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(platform.child.pid);
    const api = { url: platform.url, wsUrl: platform.wsUrl };
    const [alice, bob] = [await register(api, 'wa'), await register(api, 'wb')];
    await befriend(api, alice, bob);
    // Sends on separate connections land on both workers; seqs stay gap-free whichever worker stored them.
    const sent = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        ok(api, 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { seq } }', { i: { toUserId: bob.id, content: `m${i}`, clientMessageId: `w-${i}` } }, alice.token),
      ),
    );
    expect(sent.map((r) => r.sendMessage.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('replaces a worker that dies, and keeps serving meanwhile', async () => {
    const [first, second] = listeningPids(platform);
    process.kill(first!, 'SIGKILL');
    // Connections the dead worker held are reset; once the primary has seen it die (a connection handed over
    // in between is lost with it), a new one is served by the worker that lives.
    await eventually(async () => platform.logs.some((line) => line.includes('platform worker died')), 'the primary noticing', 5_000);
    expect(await onNewConnection(platform.url, '{"query":"{ __typename }"}')).toBe('{"data":{"__typename":"Query"}}\n');
    await eventually(async () => listeningPids(platform).length === 3, 'a new worker listening', 20_000);
    const replacement = listeningPids(platform)[2]!;
    expect([first, second]).not.toContain(replacement);
    expect(alive(replacement) && alive(second!)).toBe(true);
  });

  it('stops every worker on SIGTERM and exits 0', async () => {
    const workers = listeningPids(platform).filter(alive);
    expect(await stopNode(platform, 'SIGTERM')).toBe(0);
    await eventually(async () => !workers.some(alive), 'workers gone', 10_000);
  });
});
