import { useEffect, useRef, useState } from 'react';
import type { CallFieldsFragment } from '../../../generated/graphql';
import { formatDuration } from '../call-content';
import type { CallControls } from '../hooks/useCall';
import { useSession } from '../im-context';

/** A <video> or <audio> playing a MediaStream (srcObject has no JSX attribute). */
function StreamPlayer({ stream, video, muted, testId }: { stream: MediaStream | null; video: boolean; muted: boolean; testId: string }) {
  const ref = useRef<HTMLVideoElement & HTMLAudioElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.srcObject = stream;
  }, [stream]);
  return video ? <video ref={ref} autoPlay playsInline muted={muted} data-testid={testId} /> : <audio ref={ref} autoPlay muted={muted} data-testid={testId} />;
}

/** Seconds since `since` (ms), kept current once a second. */
function useElapsedSeconds(since: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return Math.max(0, Math.floor((now - since) / 1000));
}

/** The running call: both sides' media, how long it has lasted, and Hang up. */
function ConnectedCall({ controls, call, since, peerName }: { controls: CallControls; call: CallFieldsFragment; since: number; peerName: string }) {
  const elapsed = useElapsedSeconds(since);
  const video = call.media === 'VIDEO';
  const state = controls.connectionState;
  const status = state === 'connected' ? formatDuration(elapsed) : state === 'failed' ? 'Connection failed' : 'Connecting…';
  return (
    <div className="call-panel active" data-testid="active-call" data-connection-state={state}>
      <div className="call-media">
        <StreamPlayer stream={controls.remoteStream} video={video} muted={false} testId="remote-media" />
        {video && <StreamPlayer stream={controls.localStream} video muted testId="local-media" />}
      </div>
      <span>
        {peerName} · <span data-testid="call-duration">{status}</span>
      </span>
      <button type="button" onClick={controls.hangUp} data-testid="hang-up">
        Hang up
      </button>
    </div>
  );
}

/** This terminal's call, whatever the open conversation: ringing in or out, running, or how it just ended. */
export function CallPanel({ controls }: { controls: CallControls }) {
  const { me } = useSession();
  const { view } = controls;
  if (!view) return null;
  if (view.phase === 'ended') {
    return (
      <div className="call-panel" data-testid="call-notice">
        {view.notice}
      </div>
    );
  }
  const { call } = view;
  const peerName = call.caller.id === me.id ? call.callee.nickname : call.caller.nickname;
  const kind = call.media === 'VIDEO' ? 'video call' : 'audio call';
  if (view.phase === 'connected') return <ConnectedCall controls={controls} call={call} since={view.since} peerName={peerName} />;
  if (view.phase === 'outgoing') {
    return (
      <div className="call-panel" data-testid="outgoing-call">
        Calling {peerName} ({kind})…
        <button type="button" onClick={controls.cancel} data-testid="cancel-call">
          Cancel
        </button>
      </div>
    );
  }
  return (
    <div className="call-panel incoming" role="alertdialog" data-testid="incoming-call">
      {peerName} is calling you ({kind})
      <button type="button" onClick={controls.accept} data-testid="accept-call">
        Accept
      </button>
      <button type="button" onClick={controls.decline} data-testid="decline-call">
        Decline
      </button>
    </div>
  );
}
