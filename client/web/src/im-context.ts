import { createContext, useContext, useEffect, useRef, useState } from 'react';
import type { ImClient, ImClientEvents } from '../../sdk';
import type { UserFieldsFragment } from '../../generated/graphql';

/** The signed-in session every screen works in. */
export interface Session {
  im: ImClient;
  me: UserFieldsFragment;
}

/** Set by App once someone is signed in. */
export const SessionContext = createContext<Session | null>(null);

/** The current session; only for components rendered while signed in. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in session');
  return session;
}

/**
 * Listens to an SDK event while the component is mounted. The latest `listener` is called, so it may close
 * over fresh state without resubscribing on every render.
 */
export function useImEvent<K extends keyof ImClientEvents>(event: K, listener: (payload: ImClientEvents[K]) => void): void {
  const { im } = useSession();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => im.on(event, (payload) => latest.current(payload)), [im, event]);
}

/** The SDK connection state, kept current. */
export function useConnectionState(): ImClient['state'] {
  const { im } = useSession();
  const [state, setState] = useState(im.state);
  useImEvent('state', setState);
  return state;
}
