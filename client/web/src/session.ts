import { createImClient, type CursorStore, type ImClient } from '../../sdk';

/** What the SDK hands out to be persisted: the newest access/refresh token pair. */
export type StoredTokens = NonNullable<ReturnType<ImClient['tokens']>>;

const TOKENS_KEY = 'im.tokens';
const CURSOR_KEY_PREFIX = 'im.cursor.';

/** The sync cursor per user in localStorage, so a reload catches up from where this browser left off. */
const localCursorStore: CursorStore = {
  load: (userId) => localStorage.getItem(CURSOR_KEY_PREFIX + userId),
  save: (userId, cursor) => localStorage.setItem(CURSOR_KEY_PREFIX + userId, cursor),
};

/** The tokens a previous visit left, if any. */
export function loadTokens(): StoredTokens | null {
  const raw = localStorage.getItem(TOKENS_KEY);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as StoredTokens;
  } catch {
    return null;
  }
}

/**
 * Keeps the client's current tokens for the next visit. Called whenever they may have rotated (after a login,
 * a connection change or an access-token request): a stale refresh token would be refused as reused.
 */
export function saveTokens(im: ImClient): void {
  const tokens = im.tokens();
  if (tokens) localStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
}

/** Forgets the tokens (logout, or a session the server ended). */
export function clearTokens(): void {
  localStorage.removeItem(TOKENS_KEY);
}

/** An SDK client for the server this page came from. */
export function createSessionClient(): ImClient {
  const im = createImClient({ url: `${location.origin}/graphql`, cursorStore: localCursorStore, terminal: 'WEB' });
  im.on('state', () => saveTokens(im));
  return im;
}
