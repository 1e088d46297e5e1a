import { useState, type FormEvent } from 'react';
import { errorText } from '../errors';

/** What the form submits: register also names a nickname. */
export type Credentials =
  | { mode: 'login'; username: string; password: string }
  | { mode: 'register'; username: string; password: string; nickname: string };

/** Log in, or register a new account (which logs in too). */
export function AuthForm({ notice, onSubmit }: { notice?: string; onSubmit: (c: Credentials) => Promise<void> }) {
  const [mode, setMode] = useState<Credentials['mode']>('login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [nickname, setNickname] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit(mode === 'register' ? { mode, username, password, nickname: nickname || username } : { mode, username, password });
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
    }
  };

  return (
    <form className="auth" onSubmit={submit} data-testid="auth-form">
      <h1>IM chat</h1>
      {notice && <p className="notice">{notice}</p>}
      <div className="tabs">
        <button type="button" className={mode === 'login' ? 'active' : ''} onClick={() => setMode('login')} data-testid="auth-mode-login">
          Log in
        </button>
        <button type="button" className={mode === 'register' ? 'active' : ''} onClick={() => setMode('register')} data-testid="auth-mode-register">
          Register
        </button>
      </div>
      <label>
        Username
        <input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="username" required data-testid="auth-username" />
      </label>
      <label>
        Password
        <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete={mode === 'login' ? 'current-password' : 'new-password'} required data-testid="auth-password" />
      </label>
      {mode === 'register' && (
        <label>
          Nickname
          <input value={nickname} onChange={(e) => setNickname(e.target.value)} placeholder={username} data-testid="auth-nickname" />
        </label>
      )}
      {error && <p className="error" data-testid="auth-error">{error}</p>}
      <button type="submit" disabled={busy} data-testid="auth-submit">
        {mode === 'login' ? 'Log in' : 'Create account'}
      </button>
    </form>
  );
}
