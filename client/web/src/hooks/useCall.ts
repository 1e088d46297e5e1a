import { useEffect, useRef, useState } from 'react';
import { useClient, type AnyVariables, type TypedDocumentNode } from 'urql';
import {
  AcceptCallDocument,
  CancelCallDocument,
  HangUpCallDocument,
  IceServersDocument,
  InviteCallDocument,
  RejectCallDocument,
  SendCallSignalDocument,
  type CallChange,
  type CallFieldsFragment,
  type CallMedia,
  type CallSignalKind,
} from '../../../generated/graphql';
import { errorText } from '../errors';
import { useImEvent, useSession } from '../im-context';

/** How long the outcome of a call ("Declined", "Busy") stays on screen before the panel goes away. */
const NOTICE_MS = 4000;

/** What an end of a call says on the terminal that was in it. */
const NOTICES: Partial<Record<CallChange, string>> = {
  BUSY: 'Busy',
  REJECTED: 'Declined',
  MISSED: 'No answer',
  CANCELLED: 'Cancelled',
  ENDED: 'Call ended',
  ANSWERED_ELSEWHERE: 'Answered on another device',
};

/** The call this terminal shows: ringing in or out, connected since `since` (ms), or the outcome of the last one. */
export type CallView =
  | { phase: 'incoming' | 'outgoing'; call: CallFieldsFragment }
  | { phase: 'connected'; call: CallFieldsFragment; since: number }
  | { phase: 'ended'; notice: string };

/** The state of this terminal's call and what the user can do with it. */
export interface CallControls {
  view: CallView | null;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  /** The RTCPeerConnection's state; 'new' before there is one. */
  connectionState: RTCPeerConnectionState;
  start: (calleeId: string, media: CallMedia) => void;
  accept: () => void;
  decline: () => void;
  cancel: () => void;
  hangUp: () => void;
}

/**
 * One call at a time on this terminal: the state machine driven by CallEvents and the user's buttons, and the
 * RTCPeerConnection. After ACCEPTED the caller offers, the callee answers, both trickle ICE candidates through
 * sendCallSignal. Media work runs one step at a time on a chain, so a signal never overtakes the setup it needs.
 */
export function useCall(): CallControls {
  const { me } = useSession();
  const urql = useClient();
  const [view, setView] = useState<CallView | null>(null);
  const [localStream, setLocalStream] = useState<MediaStream | null>(null);
  const [remoteStream, setRemoteStream] = useState<MediaStream | null>(null);
  const [connectionState, setConnectionState] = useState<RTCPeerConnectionState>('new');
  // Event handlers and async steps read these, not the state of a past render.
  const current = useRef<CallView | null>(null);
  const peer = useRef<RTCPeerConnection | null>(null);
  const stream = useRef<MediaStream | null>(null);
  // Candidates that arrive before the remote description, which they need.
  const earlyCandidates = useRef<RTCIceCandidateInit[]>([]);
  const chain = useRef<Promise<void>>(Promise.resolve());
  const noticeTimer = useRef<ReturnType<typeof setTimeout>>(undefined);

  const activeCall = (): CallFieldsFragment | null => {
    const v = current.current;
    return v && v.phase !== 'ended' ? v.call : null;
  };

  const show = (next: CallView | null) => {
    clearTimeout(noticeTimer.current);
    current.current = next;
    setView(next);
  };

  const releaseMedia = () => {
    peer.current?.close();
    peer.current = null;
    stream.current?.getTracks().forEach((track) => track.stop());
    stream.current = null;
    earlyCandidates.current = [];
    setLocalStream(null);
    setRemoteStream(null);
    setConnectionState('new');
  };

  /** Ends the call on this terminal, showing `notice` for a while if there is one. */
  const finish = (notice: string | null) => {
    releaseMedia();
    show(notice ? { phase: 'ended', notice } : null);
    if (notice) noticeTimer.current = setTimeout(() => show(null), NOTICE_MS);
  };

  const run = async <D, V extends AnyVariables>(document: TypedDocumentNode<D, V>, variables: V): Promise<D> => {
    const result = await urql.mutation(document, variables).toPromise();
    if (result.error || !result.data) throw result.error ?? new Error('No answer from the server');
    return result.data;
  };

  const signal = (callId: string, kind: CallSignalKind, payload: string) => run(SendCallSignalDocument, { callId, kind, payload });

  /** Runs a media step after the previous ones; a failure hangs the call up with the reason on screen. */
  const enqueue = (callId: string, step: () => Promise<void>) => {
    chain.current = chain.current
      .then(() => (activeCall()?.id === callId ? step() : undefined))
      .catch((error: unknown) => {
        if (activeCall()?.id !== callId) return;
        finish(errorText(error));
        void run(HangUpCallDocument, { callId }).catch(() => undefined);
      });
  };

  /** Takes camera/microphone and builds the peer connection; the caller then sends the offer. */
  const connect = async (call: CallFieldsFragment, offerer: boolean) => {
    const [media, ice] = await Promise.all([
      navigator.mediaDevices.getUserMedia({ audio: true, video: call.media === 'VIDEO' }),
      urql.query(IceServersDocument, {}, { requestPolicy: 'network-only' }).toPromise(),
    ]);
    if (activeCall()?.id !== call.id) return media.getTracks().forEach((track) => track.stop());
    stream.current = media;
    setLocalStream(media);
    const iceServers = (ice.data?.iceServers ?? []).map(({ urls, username, credential }) => ({
      urls,
      username: username ?? undefined,
      credential: credential ?? undefined,
    }));
    const pc = new RTCPeerConnection({ iceServers });
    peer.current = pc;
    media.getTracks().forEach((track) => pc.addTrack(track, media));
    pc.ontrack = (event) => setRemoteStream(event.streams[0] ?? new MediaStream([event.track]));
    pc.onconnectionstatechange = () => setConnectionState(pc.connectionState);
    pc.onicecandidate = ({ candidate }) => {
      if (candidate) void signal(call.id, 'ICE_CANDIDATE', JSON.stringify(candidate.toJSON())).catch(() => undefined);
    };
    if (!offerer) return;
    await pc.setLocalDescription();
    await signal(call.id, 'OFFER', pc.localDescription?.sdp ?? '');
  };

  const receive = async (callId: string, kind: CallSignalKind, payload: string) => {
    const pc = peer.current;
    if (!pc) return;
    if (kind === 'ICE_CANDIDATE') {
      const candidate = JSON.parse(payload) as RTCIceCandidateInit;
      if (pc.remoteDescription) await pc.addIceCandidate(candidate);
      else earlyCandidates.current.push(candidate);
      return;
    }
    await pc.setRemoteDescription({ type: kind === 'OFFER' ? 'offer' : 'answer', sdp: payload });
    for (const candidate of earlyCandidates.current.splice(0)) await pc.addIceCandidate(candidate);
    if (kind !== 'OFFER') return;
    await pc.setLocalDescription();
    await signal(callId, 'ANSWER', pc.localDescription?.sdp ?? '');
  };

  useImEvent('call', ({ callChange, call, signal: received }) => {
    const active = activeCall();
    if (callChange === 'INVITED') {
      // The caller's other terminals hear of the call too; only the callee's ring, and only when free.
      if (call.callee.id === me.id && !active) show({ phase: 'incoming', call });
      return;
    }
    if (active?.id !== call.id) return;
    const phase = current.current?.phase;
    if (callChange === 'ACCEPTED' && phase === 'outgoing') {
      show({ phase: 'connected', call, since: Date.now() });
      enqueue(call.id, () => connect(call, true));
    } else if (callChange === 'SIGNAL' && received) {
      enqueue(call.id, () => receive(call.id, received.kind, received.payload));
    } else if (callChange !== 'ACCEPTED' && callChange !== 'SIGNAL') {
      // A ringing call that stops ringing just goes away; one this terminal placed or took says how it ended.
      finish(phase === 'incoming' ? null : (NOTICES[callChange] ?? null));
    }
  });

  useEffect(
    () => () => {
      clearTimeout(noticeTimer.current);
      peer.current?.close();
      stream.current?.getTracks().forEach((track) => track.stop());
    },
    [],
  );

  /** Ends the call here at once and tells the server with `document`; only a refusal is shown. */
  const leave = (document: TypedDocumentNode<unknown, { callId: string }>) => {
    const call = activeCall();
    if (!call) return;
    finish(null);
    run(document, { callId: call.id }).catch((error: unknown) => finish(errorText(error)));
  };

  return {
    view,
    localStream,
    remoteStream,
    connectionState,
    start: (calleeId, media) => {
      if (activeCall()) return;
      run(InviteCallDocument, { calleeId, media }).then(
        ({ inviteCall: call }) => {
          // A busy callee ends the call at once, and its event may have come before this answer.
          if (call.state === 'ENDED') finish(call.outcome === 'BUSY' ? 'Busy' : 'Call ended');
          else show({ phase: 'outgoing', call });
        },
        (error: unknown) => finish(errorText(error)),
      );
    },
    accept: () => {
      const call = activeCall();
      if (current.current?.phase !== 'incoming' || !call) return;
      // Ready before the caller's offer, which may come before acceptCall's own answer.
      show({ phase: 'connected', call, since: Date.now() });
      enqueue(call.id, () => connect(call, false));
      run(AcceptCallDocument, { callId: call.id }).catch((error: unknown) => finish(errorText(error)));
    },
    decline: () => leave(RejectCallDocument),
    cancel: () => leave(CancelCallDocument),
    hangUp: () => leave(HangUpCallDocument),
  };
}
