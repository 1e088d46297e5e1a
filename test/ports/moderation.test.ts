import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../src/common/logger';
import { ChainedModeration } from '../../src/moderation/moderation';
import { WebhookModeration } from '../../src/moderation/moderation.webhook';
import { WordMatcher, WordsModeration } from '../../src/moderation/moderation.words';
import { moderationSuite } from './moderation.suite';

const log = createLogger('silent');

/** The suite's policy, as the word lists hold it. */
function words(): WordsModeration {
  const moderation = new WordsModeration();
  moderation.load([
    { action: 'MASK', words: ['Darn'] },
    { action: 'REFUSE', words: ['forbidden'] },
  ]);
  return moderation;
}

/** What a test's webhook does with one request; `seen` gets every request body. */
type Handler = (body: { field: string; text: string; userId: string | null }, res: ServerResponse) => void;

/** A real moderation service on a local port. */
async function webhookServer(handler: Handler): Promise<{ url: string; seen: unknown[]; close(): Promise<void> }> {
  const seen: unknown[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw);
      seen.push(body);
      handler(body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/moderate`,
    seen,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const json = (res: ServerResponse, body: unknown, status = 200) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** The suite's policy as an external service would apply it. */
const suitePolicy: Handler = ({ text }, res) => {
  if (/forbidden/i.test(text)) return json(res, { action: 'REFUSE' });
  if (/darn/i.test(text)) return json(res, { action: 'MASK', text: text.replace(/darn/gi, '****') });
  json(res, { action: 'ALLOW' });
};

moderationSuite('words', words);

describe('webhook', () => {
  let service: Awaited<ReturnType<typeof webhookServer>>;
  beforeAll(async () => {
    service = await webhookServer(suitePolicy);
  });
  afterAll(() => service.close());

  // A budget that a busy test machine keeps: these runs are about the answers; the budget is tested below.
  const timeoutMs = 5000;
  moderationSuite('webhook', () => new WebhookModeration({ url: service.url, timeoutMs }, log));
  // The words mask first; the webhook sees the masked text and refuses what the lists let through.
  moderationSuite('words then webhook', () => new ChainedModeration([words(), new WebhookModeration({ url: service.url, timeoutMs }, log)]));

  it('should POST the field, the text and the user id as JSON', async () => {
    await new WebhookModeration({ url: service.url }, log).check('signature', 'hello', { userId: '7' });
    expect(service.seen.at(-1)).toEqual({ field: 'signature', text: 'hello', userId: '7' });
  });
});

describe('webhook failures', () => {
  const servers: Array<{ close(): Promise<void> }> = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));
  const serve = async (handler: Handler) => {
    const s = await webhookServer(handler);
    servers.push(s);
    return s.url;
  };

  it('should answer within its time budget: ALLOW when failing open, REFUSE when failing closed', async () => {
    const url = await serve((_, res) => {
      // Cleared when the adapter gives up and the connection closes, so that no timer outlives the suite.
      const late = setTimeout(() => json(res, { action: 'REFUSE' }), 2000);
      res.on('close', () => clearTimeout(late));
    });
    for (const [failure, action] of [['open', 'ALLOW'], ['closed', 'REFUSE']] as const) {
      const started = Date.now();
      const verdict = await new WebhookModeration({ url, timeoutMs: 150, failure }, log).check('content', 'slow', { userId: '1' });
      expect(verdict).toEqual({ action, text: 'slow' });
      expect(Date.now() - started).toBeLessThan(1000);
    }
  });

  it('should treat an error status, an unknown action and a MASK without a usable text as failures', async () => {
    const answers: Array<[number, unknown]> = [
      [500, { action: 'ALLOW' }],
      [200, { action: 'DELETE' }],
      [200, { action: 'MASK' }],
      [200, { action: 'MASK', text: 'longer than the original' }],
      [200, { action: 'MASK', text: '  ' }],
    ];
    let next = 0;
    const url = await serve((_, res) => {
      const [status, body] = answers[next++]!;
      json(res, body, status);
    });
    const closed = new WebhookModeration({ url, failure: 'closed' }, log);
    for (let i = 0; i < answers.length; i++) expect(await closed.check('content', 'short', { userId: '1' })).toEqual({ action: 'REFUSE', text: 'short' });
  });

  it('should fail open when nothing listens', async () => {
    const url = await serve(() => undefined);
    await servers.pop()!.close();
    expect(await new WebhookModeration({ url, failure: 'open' }, log).check('content', 'hi', { userId: '1' })).toEqual({ action: 'ALLOW', text: 'hi' });
  });
});

describe('the word automaton', () => {
  it('should star every unit of overlapping and nested words once', () => {
    const matcher = new WordMatcher([{ action: 'MASK', words: ['he', 'she', 'hers', 'ab', 'bc'] }]);
    expect(matcher.check('ushers')).toEqual({ action: 'MASK', text: 'u*****' });
    expect(matcher.check('xabcx')).toEqual({ action: 'MASK', text: 'x***x' });
    expect(matcher.check('ahe')).toEqual({ action: 'MASK', text: 'a**' });
  });

  it('should match case-insensitively beyond ASCII and keep every offset, emoji included', () => {
    const matcher = new WordMatcher([{ action: 'MASK', words: ['ÉCOLE', '坏词'] }]);
    expect(matcher.check('😀 école! 坏词😀')).toEqual({ action: 'MASK', text: '😀 *****! **😀' });
  });

  it('should refuse when a word is in a REFUSE list, even if a MASK list holds it too', () => {
    const matcher = new WordMatcher([
      { action: 'MASK', words: ['spam'] },
      { action: 'REFUSE', words: ['SPAM'] },
    ]);
    expect(matcher.check('no spam here').action).toBe('REFUSE');
  });

  it('should find a word among ten thousand in one pass over a long text', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `w${i.toString(36)}q`);
    const matcher = new WordMatcher([{ action: 'MASK', words: [...many, 'needle'] }]);
    const text = `${'hay stack '.repeat(499)}needle`;
    const started = process.hrtime.bigint();
    const verdict = matcher.check(text);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(50);
    expect(verdict.text).toBe(`${'hay stack '.repeat(499)}******`);
    expect(matcher.size).toBe(10_001);
  });

  it('should allow everything with no words, and ignore blank ones', () => {
    expect(new WordMatcher([{ action: 'REFUSE', words: ['', '  '] }]).check('anything')).toEqual({ action: 'ALLOW', text: 'anything' });
    expect(WordMatcher.EMPTY.check('x')).toEqual({ action: 'ALLOW', text: 'x' });
  });
});
