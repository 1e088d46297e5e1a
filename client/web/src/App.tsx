import { useCallback, useEffect, useMemo, useState } from 'react';
import { Provider } from 'urql';
import type { ImClient } from '../../sdk';
import type { UserFieldsFragment } from '../../generated/graphql';
import { AuthForm, type Credentials } from './components/AuthForm';
import { Shell } from './components/Shell';
import { SessionContext, type Session } from './im-context';
import { clearTokens, createSessionClient, loadTokens, saveTokens } from './session';
import { createUrqlClient } from './urql-client';

type Phase = { kind: 'resuming' } | { kind: 'signedOut'; notice?: string } | { kind: 'signedIn'; session: Session };

/** Resumes the stored session or asks to sign in; then the chat, until logout or the server ends the session. */
export function App() {
  const [phase, setPhase] = useState<Phase>(() => (loadTokens() ? { kind: 'resuming' } : { kind: 'signedOut' }));

  const enter = useCallback((im: ImClient, me: UserFieldsFragment) => {
    saveTokens(im);
    im.on('stopped', (info) => {
      clearTokens();
      setPhase({ kind: 'signedOut', notice: `Signed out: ${info.reason}` });
    });
    setPhase({ kind: 'signedIn', session: { im, me } });
  }, []);

  useEffect(() => {
    const tokens = loadTokens();
    if (phase.kind !== 'resuming' || !tokens) return;
    const im = createSessionClient();
    im.resume(tokens).then(
      (me) => enter(im, me),
      () => {
        clearTokens();
        void im.close();
        setPhase({ kind: 'signedOut' });
      },
    );
  }, [phase.kind, enter]);

  const signIn = useCallback(
    async (credentials: Credentials) => {
      const im = createSessionClient();
      try {
        const { username, password } = credentials;
        const me =
          credentials.mode === 'register'
            ? await im.register({ username, password, nickname: credentials.nickname })
            : await im.login({ username, password });
        enter(im, me);
      } catch (error) {
        void im.close();
        throw error;
      }
    },
    [enter],
  );

  const signOut = useCallback(async (im: ImClient) => {
    clearTokens();
    await im.logout().catch(() => im.close());
    setPhase({ kind: 'signedOut' });
  }, []);

  if (phase.kind === 'resuming') return <p className="centered">Connecting…</p>;
  if (phase.kind === 'signedOut') return <AuthForm notice={phase.notice} onSubmit={signIn} />;
  return <SignedIn session={phase.session} onSignOut={() => signOut(phase.session.im)} />;
}

function SignedIn({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const urql = useMemo(() => createUrqlClient(session.im), [session.im]);
  return (
    <SessionContext.Provider value={session}>
      <Provider value={urql}>
        <Shell onSignOut={onSignOut} />
      </Provider>
    </SessionContext.Provider>
  );
}
