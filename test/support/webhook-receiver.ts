import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface ReceivedHook {
  headers: IncomingHttpHeaders;
  /** The raw body, as signed. */
  raw: string;
  body: any;
}

/** How the receiver answers a request: a status, or 'hang' to never answer. */
export type HookAnswer = number | 'hang';

/** A real HTTP server that records webhook requests; `answer` decides each response. */
export interface WebhookReceiver {
  url: string;
  hooks: ReceivedHook[];
  answer: (hook: ReceivedHook, index: number) => HookAnswer;
  /** Resolves with the first recorded hook matching `predicate` (already recorded or future). */
  next(predicate: (hook: ReceivedHook) => boolean, timeoutMs?: number): Promise<ReceivedHook>;
  close(): Promise<void>;
}

/** Checks an `X-IM-Signature` header as a receiver would: HMAC-SHA256 of "<t>.<raw body>", compared in constant time. */
export function verifySignature(secret: string, header: string | undefined, raw: string): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(`${match[1]}.${raw}`).digest();
  return timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
}

/** Starts a receiver on an ephemeral port of 127.0.0.1, answering 200 unless told otherwise. */
export async function startReceiver(): Promise<WebhookReceiver> {
  const waiters: Array<{ predicate: (hook: ReceivedHook) => boolean; resolve: (hook: ReceivedHook) => void }> = [];
  const receiver: WebhookReceiver = {
    url: '',
    hooks: [],
    answer: () => 200,
    next(predicate, timeoutMs = 10_000) {
      const found = receiver.hooks.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching webhook within ${timeoutMs} ms; got ${JSON.stringify(receiver.hooks.map((h) => h.body))}`)), timeoutMs);
        waiters.push({ predicate, resolve: (hook) => (clearTimeout(timer), resolve(hook)) });
      });
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const hook: ReceivedHook = { headers: req.headers, raw, body: JSON.parse(raw) };
      const index = receiver.hooks.push(hook) - 1;
      const answer = receiver.answer(hook, index);
      if (answer !== 'hang') res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'no');
      for (const w of [...waiters]) {
        if (w.predicate(hook)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(hook);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}
