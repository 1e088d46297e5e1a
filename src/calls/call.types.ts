import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { User } from '../users/user.types';

/** What a call carries; a client picks its tracks from it (the server relays signals either way). */
export enum CallMedia {
  AUDIO = 'AUDIO',
  VIDEO = 'VIDEO',
}
registerEnumType(CallMedia, { name: 'CallMedia' });

/** Where a call stands. A user is "in a call" while one of theirs is RINGING or CONNECTED. */
export enum CallState {
  RINGING = 'RINGING',
  CONNECTED = 'CONNECTED',
  ENDED = 'ENDED',
}
registerEnumType(CallState, { name: 'CallState' });

/** How a call ended; the history message of the call carries the same value. */
export enum CallOutcome {
  MISSED = 'MISSED',
  REJECTED = 'REJECTED',
  CANCELLED = 'CANCELLED',
  BUSY = 'BUSY',
  COMPLETED = 'COMPLETED',
}
registerEnumType(CallOutcome, {
  name: 'CallOutcome',
  valuesConfig: {
    MISSED: { description: 'Nobody answered before the ring timeout.' },
    REJECTED: { description: 'The callee declined.' },
    CANCELLED: { description: 'The caller gave up before an answer.' },
    BUSY: { description: 'The callee was already in a call.' },
    COMPLETED: { description: 'Answered, then hung up by either side; durationSeconds says how long it lasted.' },
  },
});

/** What a CallEvent tells. */
export enum CallChange {
  INVITED = 'INVITED',
  ACCEPTED = 'ACCEPTED',
  ANSWERED_ELSEWHERE = 'ANSWERED_ELSEWHERE',
  REJECTED = 'REJECTED',
  CANCELLED = 'CANCELLED',
  MISSED = 'MISSED',
  BUSY = 'BUSY',
  ENDED = 'ENDED',
  SIGNAL = 'SIGNAL',
}
registerEnumType(CallChange, {
  name: 'CallChange',
  valuesConfig: {
    INVITED: { description: "A call rings: to every terminal of the callee, and to the caller's other terminals." },
    ACCEPTED: { description: "The callee answered: to every terminal of the caller (the calling one starts the WebRTC offer)." },
    ANSWERED_ELSEWHERE: { description: "Another terminal of the callee answered first: to the callee's other terminals, which stop ringing." },
    REJECTED: { description: 'The callee declined: to both parties.' },
    CANCELLED: { description: 'The caller gave up before an answer: to both parties.' },
    MISSED: { description: 'Nobody answered within the ring timeout: to both parties.' },
    BUSY: { description: 'The callee was in another call: to the caller.' },
    ENDED: { description: 'An answered call was hung up: to both parties.' },
    SIGNAL: { description: 'A WebRTC signal from the other party: only to the two terminals in the call.' },
  },
});

/** The WebRTC messages the server relays without reading them. */
export enum CallSignalKind {
  OFFER = 'OFFER',
  ANSWER = 'ANSWER',
  ICE_CANDIDATE = 'ICE_CANDIDATE',
}
registerEnumType(CallSignalKind, { name: 'CallSignalKind' });

@ObjectType('Call', { description: 'A 1:1 audio or video call between two friends.' })
export class Call {
  @Field(() => ID)
  id!: string;

  @Field(() => CallMedia)
  media!: CallMedia;

  @Field(() => CallState)
  state!: CallState;

  @Field(() => User)
  caller!: User;

  @Field(() => User)
  callee!: User;

  @Field(() => Date)
  createdAt!: Date | string;

  @Field(() => Date, { nullable: true, description: 'When the callee answered.' })
  acceptedAt?: Date | string | null;

  @Field(() => Date, { nullable: true })
  endedAt?: Date | string | null;

  @Field(() => CallOutcome, { nullable: true, description: 'Set once ENDED.' })
  outcome?: CallOutcome | null;

  @Field(() => Int, { nullable: true, description: 'Whole seconds from answer to hang-up, for COMPLETED calls.' })
  durationSeconds?: number | null;
}

@ObjectType('CallSignal')
export class CallSignal {
  @Field(() => CallSignalKind)
  kind!: CallSignalKind;

  @Field(() => String, { description: 'As the other party sent it: an SDP for OFFER and ANSWER, a candidate (usually JSON) for ICE_CANDIDATE.' })
  payload!: string;
}

@ObjectType('IceServer', { description: 'A STUN or TURN server for RTCPeerConnection({ iceServers }).' })
export class IceServer {
  @Field(() => [String])
  urls!: string[];

  @Field(() => String, { nullable: true, description: 'TURN only: `<expiry unix seconds>:<user id>`.' })
  username?: string | null;

  @Field(() => String, { nullable: true, description: 'TURN only: base64(HMAC-SHA1(secret, username)), valid until the expiry in username.' })
  credential?: string | null;
}
