import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { requireViewer, type RequestContext } from '../auth/context';
import { Call, CallMedia, CallSignalKind, IceServer } from './call.types';
import type { CallsService } from './calls.service';

/** Call signalling; each operation acts for the viewer's session (terminal). */
@Resolver()
export class CallsResolver {
  constructor(private readonly service: CallsService) {}

  @Mutation(() => Call, {
    description:
      "Calls a friend: their terminals ring (CallEvent INVITED) until one accepts, they reject, you cancel, or CALL_RING_TIMEOUT_SECONDS pass (MISSED). CONFLICT with extensions.reason BUSY when you are already in a call; a callee in a call makes this call end at once with outcome BUSY.",
  })
  inviteCall(
    @Ctx() ctx: RequestContext,
    @Arg('calleeId', () => ID) calleeId: string,
    @Arg('media', () => CallMedia, { defaultValue: CallMedia.AUDIO }) media: CallMedia,
  ): Promise<Call> {
    return this.service.invite(requireViewer(ctx), calleeId, media);
  }

  @Mutation(() => Call, { description: 'Answers a ringing call on this terminal. The first terminal wins; later ones get CONFLICT (reason ANSWERED_ELSEWHERE or ENDED).' })
  acceptCall(@Ctx() ctx: RequestContext, @Arg('callId', () => ID) callId: string): Promise<Call> {
    return this.service.accept(requireViewer(ctx), callId);
  }

  @Mutation(() => Call, { description: 'The callee declines a ringing call.' })
  rejectCall(@Ctx() ctx: RequestContext, @Arg('callId', () => ID) callId: string): Promise<Call> {
    return this.service.reject(requireViewer(ctx), callId);
  }

  @Mutation(() => Call, { description: 'The caller withdraws a call that still rings.' })
  cancelCall(@Ctx() ctx: RequestContext, @Arg('callId', () => ID) callId: string): Promise<Call> {
    return this.service.cancel(requireViewer(ctx), callId);
  }

  @Mutation(() => Call, { description: 'Either party ends the call (from any terminal); answered calls end COMPLETED with their duration.' })
  hangUpCall(@Ctx() ctx: RequestContext, @Arg('callId', () => ID) callId: string): Promise<Call> {
    return this.service.hangUp(requireViewer(ctx), callId);
  }

  @Mutation(() => Boolean, {
    description:
      "Relays a WebRTC signal to the other terminal of an accepted call (CallEvent SIGNAL), only from the calling or the answering terminal. payload: at most 16 KB for OFFER and ANSWER, 2 KB for ICE_CANDIDATE.",
  })
  sendCallSignal(
    @Ctx() ctx: RequestContext,
    @Arg('callId', () => ID) callId: string,
    @Arg('kind', () => CallSignalKind) kind: CallSignalKind,
    @Arg('payload', () => String) payload: string,
  ): Promise<boolean> {
    return this.service.signal(requireViewer(ctx), callId, kind, payload);
  }

  @Query(() => Call, { nullable: true, description: "A call of the viewer's while it rings or runs; null once it ended." })
  call(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Call | null> {
    return this.service.get(requireViewer(ctx), id);
  }

  @Query(() => [IceServer], { description: 'STUN and TURN servers for RTCPeerConnection; TURN credentials expire after TURN_CREDENTIAL_TTL_SECONDS.' })
  iceServers(@Ctx() ctx: RequestContext): IceServer[] {
    return this.service.iceServers(requireViewer(ctx));
  }
}
