// The load generator's side of a fault drill: steady open-loop private messages between pairs of SDK clients,
// and the accounting of each one from send to its recipient's app (bench/load.mjs runs it; drill.mjs drives it).
import { performance } from 'node:perf_hooks';

const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** What a message is, from its send on. */
const PENDING = 0;
const ACCEPTED = 1;
const REFUSED = 2;

/**
 * One drill's traffic. Message n goes from pairs[⌊n/2⌋ mod len][0] to [1], the next one back, with clientMessageId
 * "<run>:<n>", so that the recipient's `message` event names it. A send is accepted once the server answered it
 * with a stored message; the SDK retries network failures itself, so a refusal is an answer with an error code.
 * Once the fault heals, every other pair falls quiet: a message of theirs that missed its live delivery during
 * the fault must still arrive, with no later message in its conversation to reveal the gap.
 */
export class DrillTraffic {
  /**
   * @param {{ run: string, pairs: [string, string][], rate: number, clients: Map<string, object>,
   *   send: (from: object, input: object) => Promise<{ ok: boolean, error?: string }> }} options
   */
  constructor({ run, pairs, rate, clients, send }) {
    Object.assign(this, { run, pairs, rate, clients, send });
    this.messages = [];
    this.refusals = new Map();
    this.inflight = 0;
    this.duplicates = 0;
    this.received = { live: 0, sync: 0, fetch: 0, sent: 0 };
    this.fault = undefined;
    this.active = pairs;
    this.turn = 0;
  }

  /** Sends at `rate` per second until finish(). */
  start() {
    const started = now();
    const tick = () => {
      if (this.stopped) return;
      const due = Math.floor(((now() - started) / 1000) * this.rate);
      while (this.messages.length < due) this.sendOne();
      this.timer = setTimeout(tick, 5);
    };
    tick();
  }

  sendOne() {
    const n = this.messages.length;
    const turn = this.turn++;
    const [a, b] = this.active[Math.floor(turn / 2) % this.active.length];
    const [fromKey, toKey] = turn % 2 === 0 ? [a, b] : [b, a];
    const message = { fromKey, toKey, sentAt: now(), state: PENDING, got: 0 };
    this.messages.push(message);
    this.inflight++;
    const from = this.clients.get(fromKey);
    void this.send(from, { toUserId: this.clients.get(toKey).userId, content: `drill ${n}`, clientMessageId: `${this.run}:${n}` }).then((r) => {
      this.inflight--;
      message.state = r.ok ? ACCEPTED : REFUSED;
      const why = r.message && r.message !== r.error ? `${r.error}: ${r.message}` : r.error;
      if (!r.ok) this.refusals.set(why, (this.refusals.get(why) ?? 0) + 1);
    });
  }

  /** A message reached the app of client `key` (called for every client's every message). */
  onMessage(key, clientMessageId, at, source) {
    if (!clientMessageId?.startsWith(`${this.run}:`)) return;
    const message = this.messages[Number(clientMessageId.slice(this.run.length + 1))];
    if (!message || message.toKey !== key) return; // the sender's own copy
    if (message.got++ > 0) return void this.duplicates++;
    this.received[source]++;
    const fault = this.fault;
    if (fault && source === 'live' && fault.resumedAt === undefined && message.sentAt >= fault.at && fault.affected.has(fault.by === 'sender' ? message.fromKey : key)) {
      fault.resumedAt = at;
    }
  }

  /**
   * The fault starts now. Delivery counts as resumed at the first live delivery of a message sent after this
   * moment whose recipient (or, by: 'sender', whose sender) is one of `affected`.
   */
  markFault({ affected, by = 'recipient' }) {
    this.fault = { at: now(), affected: new Set(affected), by };
  }

  /** The fault is over (the process or server is back): the odd pairs fall quiet. */
  markHealed() {
    if (this.fault) this.fault.healedAt = now();
    if (this.pairs.length > 1) this.active = this.pairs.filter((_, i) => i % 2 === 0);
  }

  /**
   * Stops sending, waits up to `deadlineMs` for every send to be answered and every accepted message to reach
   * its recipient, and returns the drill's figures.
   */
  async finish({ deadlineMs }) {
    this.stopped = true;
    clearTimeout(this.timer);
    const stoppedAt = now();
    const deadline = stoppedAt + deadlineMs;
    const missing = () => this.messages.filter((m) => m.state === ACCEPTED && m.got === 0).length;
    while (now() < deadline && (this.inflight > 0 || missing() > 0)) await sleep(50);
    const fault = this.fault;
    const seconds = (t) => (t === undefined ? null : (t - fault.at) / 1000);
    const count = (state) => this.messages.filter((m) => m.state === state).length;
    return {
      sent: this.messages.length,
      accepted: count(ACCEPTED),
      refused: count(REFUSED),
      refusals: Object.fromEntries(this.refusals),
      unanswered: count(PENDING),
      // A refusal the server stored anyway: the app was told it failed (none is expected).
      refusedYetDelivered: this.messages.filter((m) => m.state === REFUSED && m.got > 0).length,
      live: this.received.live,
      caughtUp: this.received.sync + this.received.fetch,
      bySync: this.received.sync,
      byGapFetch: this.received.fetch,
      lost: missing(),
      duplicates: this.duplicates,
      faultSeconds: fault ? seconds(fault.healedAt) : null,
      resumedAfterSeconds: fault ? seconds(fault.resumedAt) : null,
      drainSeconds: (now() - stoppedAt) / 1000,
    };
  }
}
