import { MAX_CALL_SECONDS, type CallRegistry, type LiveCall, type RingRefusal } from './call-registry';

/** The embedded default: one process holds every call, so plain maps are atomic enough. */
export class MemoryCallRegistry implements CallRegistry {
  private readonly calls = new Map<string, { call: LiveCall; deadline?: number; forgetAt: number }>();
  /** user id -> the id of the call that keeps them busy. */
  private readonly busy = new Map<string, string>();

  async ring(call: LiveCall, ringMs: number): Promise<RingRefusal | undefined> {
    if (this.busyWith(call.caller.id)) return 'CALLER_BUSY';
    if (this.busyWith(call.callee.id)) return 'CALLEE_BUSY';
    const now = Date.now();
    this.calls.set(call.id, { call: { ...call }, deadline: now + ringMs, forgetAt: now + MAX_CALL_SECONDS * 1000 });
    this.busy.set(call.caller.id, call.id);
    this.busy.set(call.callee.id, call.id);
    return undefined;
  }

  async get(callId: string): Promise<LiveCall | undefined> {
    const entry = this.live(callId);
    return entry && { ...entry.call };
  }

  async accept(callId: string, calleeSession: string, at: number): Promise<LiveCall | undefined> {
    const entry = this.live(callId);
    if (entry?.call.state !== 'RINGING') return undefined;
    entry.call = { ...entry.call, state: 'CONNECTED', calleeSession, acceptedAt: at };
    entry.deadline = undefined;
    return { ...entry.call };
  }

  async end(callId: string, onlyIf?: LiveCall['state']): Promise<LiveCall | undefined> {
    const entry = this.live(callId);
    if (!entry || (onlyIf && entry.call.state !== onlyIf)) return undefined;
    this.remove(entry.call);
    return entry.call;
  }

  async expired(now: number): Promise<LiveCall[]> {
    const claimed: LiveCall[] = [];
    for (const { call, deadline } of [...this.calls.values()]) {
      if (deadline !== undefined && deadline <= now) {
        this.remove(call);
        claimed.push(call);
      }
    }
    return claimed;
  }

  /** The entry, unless it outlived {@link MAX_CALL_SECONDS} (then it is dropped). */
  private live(callId: string) {
    const entry = this.calls.get(callId);
    if (entry && entry.forgetAt <= Date.now()) {
      this.remove(entry.call);
      return undefined;
    }
    return entry;
  }

  private busyWith(userId: string): boolean {
    const callId = this.busy.get(userId);
    return callId !== undefined && this.live(callId) !== undefined;
  }

  private remove(call: LiveCall): void {
    this.calls.delete(call.id);
    for (const userId of [call.caller.id, call.callee.id]) if (this.busy.get(userId) === call.id) this.busy.delete(userId);
  }
}
