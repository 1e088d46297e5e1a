import type { User } from '../users/user.types';
import type { CallMedia } from './call.types';

/** A live call as the registry keeps it: plain JSON, so that any node can read it. */
export interface LiveCall {
  id: string;
  media: CallMedia;
  state: 'RINGING' | 'CONNECTED';
  /** Profiles as they were at the invite (events show them without a lookup per ICE candidate). */
  caller: User;
  callee: User;
  /** The caller's session that called: signals for the caller go there only. */
  callerSession: string;
  /** The callee's session that answered (set by `accept`): signals for the callee go there only. */
  calleeSession?: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms of the answer. */
  acceptedAt?: number;
}

/** Why {@link CallRegistry.ring} refused a call. */
export type RingRefusal = 'CALLER_BUSY' | 'CALLEE_BUSY';

/**
 * Live call state: which calls ring or run, who is busy, and when ringing calls time out.
 *
 * Contract, for every implementation:
 * - A user is busy while a call of theirs (as caller or callee) is RINGING or CONNECTED; `ring` stores a call only
 *   when neither party is busy, atomically (two invites racing for one user: one wins), else says who is busy.
 * - `ring` also sets the call's deadline, `ringMs` from now; `accept` clears it.
 * - `accept` moves a RINGING call to CONNECTED once: of several terminals accepting at once exactly one gets the
 *   call back, the others undefined (as does accepting a call that ended or is already connected).
 * - `end` removes a call and frees both parties, atomically, returning what it removed, to exactly one caller:
 *   a hang-up racing the timeout or the other party's hang-up ends the call once. With `onlyIf` it removes the
 *   call only in that state.
 * - `expired` claims the RINGING calls whose deadline has passed, removing each as `end` does: however many
 *   nodes sweep at once, each expired call is returned to one of them, so it ends (and is recorded) once.
 *   Deadlines live in the registry, not in the node that took the invite: any node's sweep ends the call.
 * - A call nobody ends (both parties vanished mid-call) is forgotten after {@link MAX_CALL_SECONDS}, freeing them.
 */
export interface CallRegistry {
  /** Stores a RINGING call with a deadline, or refuses when a party is busy. */
  ring(call: LiveCall, ringMs: number): Promise<RingRefusal | undefined>;
  /** The live call, if it still rings or runs. */
  get(callId: string): Promise<LiveCall | undefined>;
  /** RINGING -> CONNECTED for `calleeSession`, once; the updated call, or undefined. */
  accept(callId: string, calleeSession: string, at: number): Promise<LiveCall | undefined>;
  /** Removes the call (only in state `onlyIf` when given); what it removed, or undefined. */
  end(callId: string, onlyIf?: LiveCall['state']): Promise<LiveCall | undefined>;
  /** Claims and removes RINGING calls whose deadline is at or before `now` (epoch ms). */
  expired(now: number): Promise<LiveCall[]>;
}

/** How long a call may stay in the registry at all: its parties are not busy forever if nobody hangs up. */
export const MAX_CALL_SECONDS = 24 * 3600;
