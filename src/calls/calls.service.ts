import { randomUUID } from 'node:crypto';
import type { Viewer } from '../auth/context';
import { AppError, badInput, forbidden, notFound } from '../common/errors';
import type { Logger } from '../common/logger';
import { id as idArg } from '../common/validate';
import type { CallsConfig } from '../config';
import type { Delivery } from '../delivery/delivery';
import type { Notifier } from '../delivery/notifier';
import type { CallEvent } from '../events/event.types';
import type { FriendsService } from '../friends/friends.service';
import type { MessagesService } from '../messages/messages.service';
import type { OfflineNotifications } from '../notifications/offline-notifications';
import type { UsersService } from '../users/users.service';
import type { CallRegistry, LiveCall } from './call-registry';
import { CallChange, CallOutcome, CallSignalKind, CallState, type Call, type CallMedia, type IceServer } from './call.types';
import { iceServersFor } from './ice-servers';

/** Largest SDP (OFFER, ANSWER) relayed, in UTF-8 bytes. */
export const MAX_SDP_BYTES = 16 * 1024;
/** Largest ICE candidate relayed, in UTF-8 bytes. */
export const MAX_CANDIDATE_BYTES = 2 * 1024;

/** The CallEvent change each outcome is announced with. */
const CHANGE_OF: Record<CallOutcome, CallChange> = {
  MISSED: CallChange.MISSED,
  REJECTED: CallChange.REJECTED,
  CANCELLED: CallChange.CANCELLED,
  BUSY: CallChange.BUSY,
  COMPLETED: CallChange.ENDED,
};

/** Options of {@link CallsService}. */
export interface CallsOptions extends CallsConfig {
  /** How often this node looks for ringing calls past their deadline. @default 500 */
  sweepEveryMs?: number;
}

/**
 * 1:1 call signalling between friends. Live state is in the {@link CallRegistry} (any node may act on any call);
 * the server relays WebRTC signals and never sees media. Flow: `inviteCall` rings the callee's terminals; the
 * first `acceptCall` wins; then the caller's calling terminal sends the OFFER, the answering terminal the
 * ANSWER, and both their ICE candidates, each relayed (`sendCallSignal`) only to the other terminal in the
 * call. Every call that ends leaves one CALL message in the pair's private conversation.
 */
export class CallsService {
  private sweeper: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly registry: CallRegistry,
    private readonly friends: FriendsService,
    private readonly users: UsersService,
    private readonly messages: MessagesService,
    private readonly notifier: Notifier,
    private readonly offline: OfflineNotifications,
    private readonly log: Logger,
    private readonly options: CallsOptions,
  ) {}

  /**
   * Rings `calleeIdArg`'s terminals. A caller already in a call gets CONFLICT (reason BUSY); a callee in one
   * ends the new call at once as BUSY, which the caller is told and the history records.
   */
  async invite(viewer: Viewer, calleeIdArg: string, media: CallMedia): Promise<Call> {
    const calleeId = idArg('calleeId', calleeIdArg);
    if (calleeId === viewer.userId) throw badInput('calleeId', 'cannot call yourself');
    const profiles = await this.users.byIds([viewer.userId, calleeId]);
    const [caller, callee] = [profiles.get(viewer.userId), profiles.get(calleeId)];
    if (!caller || !callee) throw notFound('user');
    const conversationId = await this.friends.conversationOf(viewer.userId, calleeId);
    if (conversationId === undefined) throw forbidden('calleeId: you can only call your friends');
    const call: LiveCall = { id: randomUUID(), media, state: 'RINGING', caller, callee, callerSession: viewer.sessionId, createdAt: Date.now() };
    const refusal = await this.registry.ring(call, this.options.ringTimeoutSeconds * 1000);
    if (refusal === 'CALLER_BUSY') throw new AppError('CONFLICT', 'calleeId: you are already in a call; hang it up first', { reason: 'BUSY' });
    if (refusal === 'CALLEE_BUSY') return this.finish(call, CallOutcome.BUSY);
    // Every terminal of the callee rings; the caller's other terminals show the outgoing call (sessions are
    // unique, so excepting the calling one spares none of the callee's).
    await this.announce([calleeId, viewer.userId], call, CallChange.INVITED, { exceptSession: viewer.sessionId });
    // A callee with no live terminal hears of it through the push port (only enqueued here).
    this.offline.notify({ kind: 'CALL', userId: calleeId, conversationId, conversationType: 'PRIVATE', call: { callId: call.id, caller: { id: caller.id, nickname: caller.nickname } } });
    return toCall(call);
  }

  /** The callee answers on this terminal; the first terminal to accept wins, later ones get CONFLICT. */
  async accept(viewer: Viewer, callIdArg: string): Promise<Call> {
    const call = await this.partyOf(viewer, callIdArg);
    if (call.callee.id !== viewer.userId) throw forbidden('callId: only the callee can accept');
    const accepted = await this.registry.accept(call.id, viewer.sessionId, Date.now());
    if (!accepted) throw await this.gone(call.id);
    await this.announce([call.caller.id], accepted, CallChange.ACCEPTED);
    await this.announce([call.callee.id], accepted, CallChange.ANSWERED_ELSEWHERE, { exceptSession: viewer.sessionId });
    return toCall(accepted);
  }

  /** The callee declines a ringing call. */
  async reject(viewer: Viewer, callIdArg: string): Promise<Call> {
    const call = await this.partyOf(viewer, callIdArg);
    if (call.callee.id !== viewer.userId) throw forbidden('callId: only the callee can reject; the caller cancels');
    const ended = await this.registry.end(call.id, 'RINGING');
    if (!ended) throw await this.gone(call.id);
    return this.finish(ended, CallOutcome.REJECTED);
  }

  /** The caller gives up on a ringing call. */
  async cancel(viewer: Viewer, callIdArg: string): Promise<Call> {
    const call = await this.partyOf(viewer, callIdArg);
    if (call.caller.id !== viewer.userId) throw forbidden('callId: only the caller can cancel; the callee rejects');
    const ended = await this.registry.end(call.id, 'RINGING');
    if (!ended) throw await this.gone(call.id);
    return this.finish(ended, CallOutcome.CANCELLED);
  }

  /**
   * Either party ends the call from any terminal: COMPLETED with its duration once answered; while it still
   * rings, a cancel by the caller or a reject by the callee.
   */
  async hangUp(viewer: Viewer, callIdArg: string): Promise<Call> {
    const call = await this.partyOf(viewer, callIdArg);
    const ended = await this.registry.end(call.id);
    if (!ended) throw await this.gone(call.id);
    if (ended.state === 'CONNECTED') return this.finish(ended, CallOutcome.COMPLETED);
    return this.finish(ended, ended.caller.id === viewer.userId ? CallOutcome.CANCELLED : CallOutcome.REJECTED);
  }

  /** Relays a WebRTC signal from one terminal in an answered call to the other, and to no one else. */
  async signal(viewer: Viewer, callIdArg: string, kind: CallSignalKind, payload: string): Promise<boolean> {
    const limit = kind === CallSignalKind.ICE_CANDIDATE ? MAX_CANDIDATE_BYTES : MAX_SDP_BYTES;
    if (payload.length === 0) throw badInput('payload', 'must not be empty');
    if (Buffer.byteLength(payload, 'utf8') > limit) throw badInput('payload', `must be at most ${limit} bytes for ${kind}`);
    const call = await this.partyOf(viewer, callIdArg);
    if (call.state !== 'CONNECTED') throw new AppError('CONFLICT', 'callId: signals flow once the call is accepted', { reason: 'NOT_CONNECTED' });
    const fromCaller = call.caller.id === viewer.userId;
    if (viewer.sessionId !== (fromCaller ? call.callerSession : call.calleeSession)) {
      throw forbidden('callId: this terminal is not the one in the call');
    }
    const [to, session] = fromCaller ? [call.callee.id, call.calleeSession!] : [call.caller.id, call.callerSession];
    await this.announce([to], call, CallChange.SIGNAL, { onlySession: session }, { kind, payload });
    return true;
  }

  /** A live call of the viewer's; null once it ended (the history message tells how). */
  async get(viewer: Viewer, callIdArg: string): Promise<Call | null> {
    const call = await this.registry.get(checkCallId('id', callIdArg));
    return call && isParty(call, viewer.userId) ? toCall(call) : null;
  }

  /** STUN/TURN servers for the viewer, TURN with a fresh short-lived credential. */
  iceServers(viewer: Viewer): IceServer[] {
    return iceServersFor(this.options, viewer.userId);
  }

  /**
   * Starts sweeping for calls that rang past their deadline. Every node that serves GraphQL sweeps; the registry
   * hands each expired call to one of them, so a call ends as MISSED even when the node that took it is gone.
   */
  start(): void {
    const every = this.options.sweepEveryMs ?? 500;
    this.sweeper = setInterval(() => void (this.sweeping ??= this.sweep().finally(() => (this.sweeping = undefined))), every);
    this.sweeper.unref();
  }

  /** Stops sweeping; waits for a sweep under way. */
  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    await this.sweeping;
  }

  private async sweep(): Promise<void> {
    try {
      for (const call of await this.registry.expired(Date.now())) await this.finish(call, CallOutcome.MISSED);
    } catch (err) {
      this.log.warn({ err }, 'could not sweep expired calls; the next sweep tries again');
    }
  }

  /** The live call, if the viewer is a party; NOT_FOUND otherwise (a stranger learns nothing of it). */
  private async partyOf(viewer: Viewer, callIdArg: string): Promise<LiveCall> {
    const call = await this.registry.get(checkCallId('callId', callIdArg));
    if (!call || !isParty(call, viewer.userId)) throw notFound('call');
    return call;
  }

  /** Why a change lost its race: another terminal answered first, or the call ended meanwhile. */
  private async gone(callId: string): Promise<AppError> {
    const now = await this.registry.get(callId);
    return now?.state === 'CONNECTED'
      ? new AppError('CONFLICT', 'callId: the call was already answered', { reason: 'ANSWERED_ELSEWHERE' })
      : new AppError('CONFLICT', 'callId: the call has ended', { reason: 'ENDED' });
  }

  /** Records the ended call in the history (persist first), then tells the parties. */
  private async finish(call: LiveCall, outcome: CallOutcome): Promise<Call> {
    const endedAt = Date.now();
    const durationSeconds = outcome === CallOutcome.COMPLETED && call.acceptedAt !== undefined ? Math.round((endedAt - call.acceptedAt) / 1000) : null;
    const ended = toCall(call, { state: CallState.ENDED, endedAt: new Date(endedAt), outcome, durationSeconds });
    const content = JSON.stringify({ callId: call.id, media: call.media, outcome, durationSeconds });
    try {
      await this.messages.recordCall(call.caller.id, call.callee.id, content, `call:${call.id}`);
    } catch (err) {
      // The call ended all the same; only its line in the history is missing.
      this.log.error({ err, callId: call.id }, 'could not record the call in the conversation');
    }
    // A busy callee was never rung: only the caller hears of it (the history message reaches both).
    const to = outcome === CallOutcome.BUSY ? [call.caller.id] : [call.caller.id, call.callee.id];
    await this.notifier.send(to, { __typename: 'CallEvent', call: ended, callChange: CHANGE_OF[outcome], signal: null });
    return ended;
  }

  private announce(userIds: string[], call: LiveCall, change: CallChange, options: Omit<Delivery, 'event'> = {}, signal: CallEvent['signal'] = null): Promise<void> {
    return this.notifier.send(userIds, { __typename: 'CallEvent', call: toCall(call), callChange: change, signal }, options);
  }
}

const isParty = (call: LiveCall, userId: string): boolean => call.caller.id === userId || call.callee.id === userId;

/** Call ids are UUIDs; anything else cannot name one. */
function checkCallId(field: string, value: string): string {
  if (!/^[0-9a-f-]{36}$/.test(value)) throw badInput(field, 'is not a valid call id');
  return value;
}

/** The API view of a call, with what its end adds. */
function toCall(call: LiveCall, end: Partial<Call> = {}): Call {
  return {
    id: call.id,
    media: call.media,
    state: call.state as CallState,
    caller: { ...call.caller },
    callee: { ...call.callee },
    createdAt: new Date(call.createdAt),
    acceptedAt: call.acceptedAt === undefined ? null : new Date(call.acceptedAt),
    endedAt: null,
    outcome: null,
    durationSeconds: null,
    ...end,
  };
}
