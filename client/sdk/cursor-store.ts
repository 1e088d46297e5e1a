/**
 * Where the SDK keeps each user's syncMessages cursor between runs, so that a restarted app catches up from
 * where it stopped instead of from the beginning. Both methods may be synchronous or return a promise.
 *
 * In a browser, localStorage is a few lines:
 * ```ts
 * const localStorageCursorStore: CursorStore = {
 *   load: (userId) => localStorage.getItem(`im-cursor:${userId}`),
 *   save: (userId, cursor) => localStorage.setItem(`im-cursor:${userId}`, cursor),
 * };
 * ```
 * In Node, a file per user (with `import { readFile, writeFile } from 'node:fs/promises'`):
 * ```ts
 * const fileCursorStore: CursorStore = {
 *   load: (userId) => readFile(`cursors/${userId}`, 'utf8').catch(() => null),
 *   save: (userId, cursor) => writeFile(`cursors/${userId}`, cursor),
 * };
 * ```
 */
export interface CursorStore {
  /** The cursor saved for `userId`, or null when there is none (catch-up then starts from the beginning). */
  load(userId: string): Promise<string | null> | string | null;
  /** Keeps `cursor` for `userId`; called only once the app got every message the cursor covers. */
  save(userId: string, cursor: string): Promise<void> | void;
}

/** A {@link CursorStore} in memory: catch-up survives reconnects, not a restart of the app. */
export function memoryCursorStore(): CursorStore {
  const cursors = new Map<string, string>();
  return {
    load: (userId) => cursors.get(userId) ?? null,
    save: (userId, cursor) => void cursors.set(userId, cursor),
  };
}
