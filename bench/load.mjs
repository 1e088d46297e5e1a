// The load generator, run as its own process (forked by run.mjs, driven over IPC); all send and receive times
// come from this process's clock. BENCH_CLIENT picks what a simulated user is:
// - sdk (the default): a client of the SDK (client/sdk, built to dist/client by npm run build), as a real
//   app's would be: it signs in with the seeded token, catches up, orders and de-duplicates, selects the full
//   message and event fragments, and sends with retries;
// - raw (issue 10's figures): a graphql-ws client selecting only what the bench reads, and one plain HTTP
//   sendMessage per message: the server's cost with the least client work beside it.
import http from 'node:http';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { pct } from './lib.mjs';
import { DrillTraffic } from './drill-traffic.mjs';

const clientKind = process.env.BENCH_CLIENT ?? 'sdk';
if (!['raw', 'sdk'].includes(clientKind)) throw new Error(`BENCH_CLIENT is raw or sdk, not ${clientKind}`);
const { createImClient, memoryCursorStore } = clientKind === 'sdk' ? createRequire(import.meta.url)('../dist/client/sdk/index.js') : {};
const EVENTS = 'subscription { events { __typename ... on MessageEvent { message { id clientMessageId } } } }';
const SEND = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }';
const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** How long an SDK client may take to be connected and subscribed before it counts as failed. */
const CONNECT_TIMEOUT_MS = 20_000;

/** key -> { userId, token, close, im? } */
const clients = new Map();
/** key -> { userId, token } of a client the churn command closed and has not connected again yet: it still sends, over HTTP. */
const away = new Map();
/**
 * One cursor store for every SDK client of this process, as an app keeps its user's cursor across restarts:
 * a client the churn command connects again catches up from where the closed one stopped, not from the start.
 */
const cursorStore = memoryCursorStore?.();
/** Called for every message a client's app is handed: (key, clientMessageId, receivedAt, source). */
let onMessage = () => {};
let closedUnexpectedly = 0;
/** Errors SDK clients reported and worked around themselves (a failed sync, a send retried, ...). */
let workedAround = 0;
/** What the churn command did so far: clients closed, connected again, and connection attempts that failed. */
const churned = { churnLeft: 0, churnBack: 0, churnFailed: 0 };
/** The (first) platform's GraphQL URL, from the connect call. */
let httpUrl;
/**
 * Every platform's GraphQL URL, each with the time until which it counts as down: the load generator is the
 * load balancer in front of them, with a passive health check (a platform that refused a connection is left
 * out for PLATFORM_DOWN_MS).
 */
let platforms = [];
const PLATFORM_DOWN_MS = 2000;
/** The drill under way, if any. */
let drill;

// Above ~28,000 sockets from one source address to one port the ephemeral ports run out: run.mjs gives each
// extra load process its own 127.0.0.x source address.
const localAddress = process.env.BENCH_LOCAL_ADDRESS;
const SocketImpl = localAddress
  ? class extends WebSocket {
      constructor(url, protocols) {
        super(url, protocols, { localAddress });
      }
    }
  : WebSocket;

const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });

/**
 * A `fetch` for POSTs of JSON over the keep-alive agent: what both clients send with. Node's built-in fetch
 * (undici, web streams) cost the load generator about twice the CPU per request here, which the platform then
 * competes with for the two cores; the SDK takes any `fetch`, as an app with many users in one process would.
 * It answers the part of a Response the SDK reads: status, headers.get and json().
 */
function agentFetch(endpoint, { method = 'POST', headers = {}, body = '' } = {}) {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, hostname: url.hostname, port: url.port, path: url.pathname, method, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({
            status: res.statusCode,
            ok: res.statusCode >= 200 && res.statusCode < 300,
            headers: { get: (name) => res.headers[name.toLowerCase()] ?? null },
            json: async () => JSON.parse(text),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * An SDK client's `fetch`: to its home platform (index `home`) while that is up, else to the next one up. A
 * request that fails to connect marks its platform down and fails; the SDK retries it (sends carry their
 * clientMessageId, so a retry never makes a second message) and the retry goes elsewhere.
 */
function balancedFetch(home) {
  return async (_url, init) => {
    const at = Date.now();
    const order = platforms.map((_, i) => platforms[(home + i) % platforms.length]);
    const target = order.find((p) => p.downUntil <= at) ?? order[0];
    try {
      return await agentFetch(target.url, init);
    } catch (error) {
      if (platforms.length > 1) target.downUntil = Date.now() + PLATFORM_DOWN_MS;
      throw error;
    }
  };
}

/**
 * Each connection attempt to the next of `urls`, the first one first: round-robin DNS, in effect. `last` is
 * the URL of the latest attempt (where the client is, once connected).
 */
function rotating(urls) {
  let attempt = 0;
  const next = () => (next.last = urls[attempt++ % urls.length]);
  return next;
}

/** POSTs sendMessage to the GraphQL endpoint `endpoint`; resolves { ok, status, error }. */
async function postSend(endpoint, token, input) {
  const body = JSON.stringify({ query: SEND, variables: { input } });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  try {
    const res = await agentFetch(endpoint, { headers, body });
    const parsed = await res.json().catch(() => undefined);
    const error = parsed?.errors?.[0]?.message ?? (res.status !== 200 ? `HTTP ${res.status}` : parsed?.data?.sendMessage ? undefined : 'no data');
    return { ok: !error, status: res.status, error };
  } catch (e) {
    return { ok: false, status: 0, error: e.message };
  }
}

/**
 * The bare protocol client (`--client raw`): a graphql-ws client whose subscription selects only what the
 * bench reads; resolves true once connection_ack arrived, else why it failed.
 */
function connectRaw({ key, userId, token, wsUrl }) {
  return new Promise((resolve) => {
    let settled = false;
    let lastError;
    const client = createClient({
      url: wsUrl,
      webSocketImpl: SocketImpl,
      connectionParams: { authorization: `Bearer ${token}` },
      lazy: false,
      retryAttempts: 0,
      keepAlive: 0,
      on: {
        connected: () => {
          if (settled) return;
          settled = true;
          clients.set(key, { userId, token, close: () => client.dispose() });
          resolve(true);
        },
        closed: (event) => {
          if (!settled) {
            settled = true;
            resolve(lastError ?? `closed ${event?.code ?? ''} ${event?.reason ?? ''}`.trim());
          } else if (clients.has(key)) closedUnexpectedly++;
        },
        error: (error) => {
          lastError = error?.message ?? error?.error?.message ?? String(error?.type ?? error);
        },
      },
    });
    client.subscribe(
      { query: EVENTS },
      {
        next: (result) => {
          const ev = result.data?.events;
          if (ev?.__typename === 'MessageEvent') onMessage(key, ev.message.clientMessageId, now(), 'live');
        },
        error: () => {},
        complete: () => {},
      },
    );
  });
}

/** Sends one message as `from`; resolves { ok, error } (an SDK client retries network failures and RATE_LIMITED itself). */
function send(from, input) {
  if (!from.im) return postSend(httpUrl, from.token, input);
  return from.im.send(input).then(
    () => ({ ok: true }),
    (error) => ({ ok: false, error: error?.code ?? error?.message ?? String(error), message: error?.message }),
  );
}

/**
 * Signs one seeded user in through the SDK (its token was minted by the seeder: the SDK never needs to refresh
 * it within a run); resolves true once the events connection is up, else why it failed. A list of `wsUrl`s is
 * rotated through, one per connection attempt; `platform` is the index of the client's home platform.
 */
function connectSdk({ key, userId, token, wsUrl, platform = 0 }) {
  return new Promise((resolve) => {
    let settled = false;
    let lastError;
    const wsUrls = Array.isArray(wsUrl) ? rotating(wsUrl) : undefined;
    const im = createImClient({
      url: httpUrl,
      wsUrl: wsUrls ?? wsUrl,
      webSocketImpl: SocketImpl,
      fetch: balancedFetch(platform),
      cursorStore,
    });
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void im.close();
      resolve(why);
    };
    const timer = setTimeout(() => fail(`not connected in ${CONNECT_TIMEOUT_MS / 1000} s${lastError ? `: ${lastError}` : ''}`), CONNECT_TIMEOUT_MS);
    im.on('messageSource', ({ message, source }) => onMessage(key, message.clientMessageId, now(), source));
    im.on('error', (error) => {
      workedAround++;
      lastError = error?.message ?? String(error);
    });
    im.on('stopped', ({ code, reason }) => fail(`stopped ${code} ${reason}`));
    im.on('state', (state) => {
      if (state === 'connected' && !settled) {
        settled = true;
        clearTimeout(timer);
        clients.set(key, { im, userId, token, close: () => im.close(), at: () => (im.state === 'connected' ? (wsUrls?.last ?? wsUrl) : undefined) });
        resolve(true);
      } else if (state === 'reconnecting' && settled && clients.has(key)) closedUnexpectedly++;
    });
    const expiresAt = new Date(Date.now() + 1800_000).toISOString();
    im.resume({ accessToken: token, refreshToken: 'seeded-session-has-no-refresh-token', accessTokenExpiresAt: expiresAt }).catch((error) => fail(error?.message ?? String(error)));
  });
}

/**
 * The figures of one interval of a running command. counters() gives cumulative counts; take() answers how much
 * each grew since the previous take(), with the percentiles of the latencies pushed meanwhile, and starts anew.
 */
function intervalReporter(counters) {
  const totals = () => ({ ...counters(), closedUnexpectedly, workedAround, ...churned });
  let last = totals();
  let since = now();
  const reporter = {
    latency: [],
    take() {
      const current = totals();
      const sorted = reporter.latency.sort((a, b) => a - b);
      const figures = { seconds: (now() - since) / 1000, p50: pct(sorted, 50), p99: pct(sorted, 99), max: sorted.at(-1) ?? NaN };
      for (const [name, value] of Object.entries(current)) figures[name] = value - last[name];
      last = current;
      since = now();
      reporter.latency = [];
      return figures;
    },
  };
  return reporter;
}

const handlers = {
  /** platformUrls (all platforms, for the SDK's failover) defaults to [platformUrl]. */
  async connect({ clients: list, platformUrl, platformUrls = [platformUrl], concurrency = 100 }) {
    httpUrl = new URL('/graphql', platformUrl).href;
    platforms = platformUrls.map((url) => ({ url: new URL('/graphql', url).href, downUntil: 0 }));
    const connectOne = clientKind === 'sdk' ? connectSdk : connectRaw;
    const started = now();
    let ok = 0;
    let failed = 0;
    const failedKeys = [];
    let next = 0;
    const reasons = {};
    const worker = async () => {
      while (next < list.length) {
        const item = list[next++];
        const result = await connectOne(item);
        if (result === true) {
          ok++;
          away.delete(item.key);
        } else {
          // Away, as if it had left: it still sends over HTTP, and what is sent to it counts as lost.
          away.set(item.key, { userId: item.userId, token: item.token });
          failedKeys.push(item.key);
          failed++;
          reasons[result] = (reasons[result] ?? 0) + 1;
        }
      }
    };
    const progress = setInterval(() => process.send({ progress: `connecting: ${ok} open, ${failed} failed of ${list.length}` }), 5000);
    await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));
    clearInterval(progress);
    return { ok, failed, failedKeys, reasons, ms: now() - started };
  },

  async closeAll() {
    const all = [...clients.values()];
    clients.clear();
    away.clear();
    await Promise.all(all.map((c) => c.close()));
    const unexpected = closedUnexpectedly;
    closedUnexpectedly = 0;
    return { closed: all.length, closedUnexpectedly: unexpected };
  },

  /**
   * Clients leaving and coming back while other commands run (an SDK client catches up on what it missed): each
   * second `perSecond` random connected clients close, stay away `awayMs` and connect again as new clients of the
   * same users, each on the next of `wsUrls`, so users also move between push nodes. Stops leaving after
   * `seconds` and resolves once every client that left is back, or gave up after `attempts` failed tries (it
   * then stays away: messages to it count as lost).
   */
  async churn({ perSecond, seconds, wsUrls, awayMs = 1000, attempts = 5 }) {
    const connectOne = clientKind === 'sdk' ? connectSdk : connectRaw;
    const reasons = {};
    const connectMs = [];
    let gaveUp = 0;
    let nextUrl = 0;
    const comeBack = async (key, user) => {
      for (let attempt = 0; attempt < attempts; attempt++) {
        await sleep(awayMs);
        const t0 = now();
        const result = await connectOne({ key, ...user, wsUrl: wsUrls[nextUrl++ % wsUrls.length] });
        if (result === true) {
          away.delete(key);
          churned.churnBack++;
          connectMs.push(now() - t0);
          return;
        }
        churned.churnFailed++;
        reasons[result] = (reasons[result] ?? 0) + 1;
      }
      gaveUp++;
    };
    const returns = [];
    const start = now();
    let left = 0;
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        if (now() - start >= seconds * 1000) {
          clearInterval(timer);
          return resolve();
        }
        const due = Math.floor(((now() - start) / 1000) * perSecond);
        const keys = left < due ? [...clients.keys()] : [];
        while (left < due && keys.length) {
          const i = Math.floor(Math.random() * keys.length);
          const key = keys[i];
          keys[i] = keys.at(-1);
          keys.pop();
          const client = clients.get(key);
          // Out of `clients` before it closes, so that its close is not counted as unexpected.
          clients.delete(key);
          const user = { userId: client.userId, token: client.token };
          away.set(key, user);
          left++;
          churned.churnLeft++;
          returns.push(Promise.resolve(client.close()).catch(() => {}).then(() => comeBack(key, user)));
        }
      }, 50);
    });
    await Promise.all(returns);
    connectMs.sort((a, b) => a - b);
    return { left, back: connectMs.length, gaveUp, reasons, connectP50: pct(connectMs, 50), connectP99: pct(connectMs, 99) };
  },

  /**
   * Open-loop private load: pairs[i] = [fromKey, toKey]; message n goes from pairs[n % len][0] to [1] (and the next
   * one reversed, so both sides send). clientMessageId is "<run>:<n>:<send time>" so the receiver can time it.
   * A user the churn command has closed still sends (over HTTP) and is still sent to: those messages reach it
   * by catch-up when it connects again, and are counted as caughtUp, not timed with the live ones.
   * reportMs: every reportMs a `report` message gives the figures of that interval alone (none by default).
   */
  async private({ run, pairs, rate, seconds, maxInflight = 4000, drainMs = 60000, reportMs }) {
    const total = Math.round(rate * seconds);
    const sentAt = new Float64Array(total).fill(-1);
    const recipientOf = new Array(total);
    const latency = [];
    const httpLatency = [];
    const errors = new Map();
    let delivered = 0;
    let caughtUp = 0;
    let duplicates = 0;
    let okCount = 0;
    let issued = 0;
    let inflight = 0;
    let maxInflightSeen = 0;
    let skippedForInflight = 0;
    const got = new Uint8Array(total);
    const okFlag = new Uint8Array(total);
    const toAway = new Uint8Array(total);
    const prefix = `${run}:`;
    const interval = reportMs && intervalReporter(() => ({ issued, ok: okCount, delivered, caughtUp, errors: [...errors.values()].reduce((a, b) => a + b, 0) }));
    onMessage = (key, cmid, at) => {
      if (!cmid.startsWith(prefix)) return;
      const parts = cmid.split(':');
      const n = Number(parts[1]);
      if (recipientOf[n] !== key) return; // the sender's own echo
      if (got[n]) {
        duplicates++;
        return;
      }
      got[n] = 1;
      delivered++;
      if (toAway[n]) caughtUp++;
      else {
        latency.push(at - Number(parts[2]));
        interval?.latency.push(at - Number(parts[2]));
      }
    };
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const start = now();
    const end = start + seconds * 1000;
    const progress = setInterval(() => {
      const at = (now() - start) / 1000;
      process.send({ progress: `${run} ${rate}/s: ${at.toFixed(0)} s, sent ${issued}, ok ${okCount}, delivered ${delivered}, in flight ${inflight}` });
    }, 5000);
    const reports = interval && setInterval(() => process.send({ report: interval.take() }), reportMs);
    await new Promise((resolve) => {
      const tick = () => {
        const t = now();
        const due = Math.min(total, Math.floor(((Math.min(t, end) - start) / 1000) * rate));
        while (issued < due) {
          if (inflight >= maxInflight) {
            skippedForInflight++;
            break;
          }
          const n = issued++;
          const [a, b] = pairs[Math.floor(n / 2) % pairs.length];
          const [fromKey, toKey] = n % 2 === 0 ? [a, b] : [b, a];
          const from = clients.get(fromKey) ?? away.get(fromKey);
          const to = clients.get(toKey) ?? away.get(toKey);
          recipientOf[n] = toKey;
          if (!clients.has(toKey)) toAway[n] = 1;
          const t0 = now();
          sentAt[n] = t0;
          inflight++;
          if (inflight > maxInflightSeen) maxInflightSeen = inflight;
          send(from, {
            toUserId: to.userId,
            content: `bench message ${n} from ${from.userId}`,
            clientMessageId: `${run}:${n}:${t0.toFixed(3)}`,
          }).then((r) => {
            inflight--;
            httpLatency.push(now() - t0);
            if (r.ok) {
              okCount++;
              okFlag[n] = 1;
            }
            else errors.set(r.error, (errors.get(r.error) ?? 0) + 1);
          });
        }
        if (t >= end || issued >= total) resolve();
        else setTimeout(tick, 1);
      };
      tick();
    });
    const sendElapsed = (now() - start) / 1000;
    const drainStart = now();
    // Wait for every response and then for the deliveries still on their way (at most 5 s past the last response).
    while (inflight > 0 && now() - drainStart < drainMs) await sleep(20);
    const responsesDone = now();
    while (delivered < okCount && now() - responsesDone < 5000) await sleep(20);
    const drainSeconds = (now() - drainStart) / 1000;
    clearInterval(progress);
    clearInterval(reports);
    let lost = 0;
    for (let n = 0; n < issued; n++) if (okFlag[n] && !got[n]) lost++;
    loop.disable();
    latency.sort((x, y) => x - y);
    httpLatency.sort((x, y) => x - y);
    return {
      total,
      issued,
      sendElapsed,
      ok: okCount,
      stillInflight: inflight,
      drainSeconds,
      lost,
      errors: Object.fromEntries(errors),
      delivered,
      caughtUp,
      duplicates,
      maxInflightSeen,
      skippedForInflight,
      latency,
      httpLatency,
      loopDelayP99: loop.percentile(99) / 1e6,
      loopDelayMax: loop.max / 1e6,
    };
  },

  /** Starts a drill's steady traffic (see drill-traffic.mjs); every message any client gets is counted by it. */
  drillStart({ run, pairs, rate }) {
    drill = new DrillTraffic({ run, pairs, rate, clients, send });
    onMessage = (...args) => drill.onMessage(...args);
    drill.start();
  },

  /** key -> the WebSocket URL of each SDK client connected now. */
  whereConnected() {
    return Object.fromEntries([...clients].map(([key, c]) => [key, c.at?.()]).filter(([, at]) => at));
  },

  drillFault({ affected, by }) {
    drill.markFault({ affected, by });
  },

  drillHealed() {
    drill.markHealed();
  },

  /** Stops the drill's sends and returns its figures once everything accepted arrived or `deadlineMs` passed. */
  drillFinish({ deadlineMs }) {
    return drill.finish({ deadlineMs });
  },

  /** Sends `count` group messages one after another, each after the previous reached everyone (or timed out). */
  async group({ run, senderKey, groupId, memberKeys, count, perMessageTimeoutMs = 5000 }) {
    const sender = clients.get(senderKey);
    const others = memberKeys.filter((k) => k !== senderKey && clients.has(k));
    const perMessage = [];
    const latency = [];
    const errors = [];
    let current;
    onMessage = (key, cmid, at) => {
      if (!current || cmid !== current.cmid) return;
      if (key === senderKey) {
        current.echo = at - current.t0;
        return;
      }
      if (current.got.has(key)) return;
      current.got.add(key);
      current.latency.push(at - current.t0);
      if (current.got.size >= others.length) current.done();
    };
    for (let i = 0; i < count; i++) {
      const t0 = now();
      const cmid = `${run}:g${i}:${t0.toFixed(3)}`;
      let done;
      const all = new Promise((r) => (done = r));
      current = { cmid, t0, got: new Set(), latency: [], done, echo: NaN };
      const response = await send(sender, { toGroupId: groupId, content: `group bench ${i}`, clientMessageId: cmid });
      const httpMs = now() - t0;
      if (!response.ok) errors.push(response.error);
      await Promise.race([all, sleep(perMessageTimeoutMs)]);
      const l = current.latency.sort((x, y) => x - y);
      latency.push(...l);
      perMessage.push({ i, httpMs, reached: current.got.size, of: others.length, p50: l[Math.floor(l.length / 2)], max: l[l.length - 1], echo: current.echo, ok: response.ok });
      current = undefined;
      await sleep(100);
    }
    latency.sort((x, y) => x - y);
    return { perMessage, latency, errors, recipients: others.length };
  },
};

process.on('message', async (msg) => {
  try {
    const result = await handlers[msg.cmd](msg);
    process.send({ id: msg.id, result });
  } catch (error) {
    process.send({ id: msg.id, error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
