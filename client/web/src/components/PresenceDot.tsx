/** Green while the user holds a live connection. */
export function PresenceDot({ online }: { online: boolean }) {
  return <span className={`dot ${online ? 'online' : 'offline'}`} title={online ? 'Online' : 'Offline'} data-testid="presence-dot" data-online={online} />;
}
