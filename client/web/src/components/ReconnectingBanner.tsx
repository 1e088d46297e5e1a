import { useConnectionState } from '../im-context';

/** Says so while the live connection is down and the SDK is reconnecting (sends are retried meanwhile). */
export function ReconnectingBanner() {
  const state = useConnectionState();
  if (state !== 'reconnecting') return null;
  return (
    <div className="banner" role="status" data-testid="reconnecting-banner">
      Reconnecting…
    </div>
  );
}
