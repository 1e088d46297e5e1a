/**
 * The server's syncMessages cursor, read and written here so that the client can move it past live messages
 * itself instead of asking the server: for each conversation, the highest seq handed to the app. The server
 * returns every seq above it and never skips (a conversation's seqs become visible in order), so a cursor the
 * client advances over delivered messages is as good as one the server issued.
 *
 * The format is the server's (base64url, unpadded, of "conversationId:seq,..."), written with TextEncoder and
 * btoa/atob rather than Buffer so that the SDK runs in browsers as it is.
 */
export type SyncCursor = Map<string, number>;

const ENTRY = /^([1-9][0-9]{0,18}):([0-9]{1,10})$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** The map of a cursor string; null or '' is the empty cursor (from the beginning). Throws on anything else that is not a cursor. */
export function decodeCursor(cursor: string | null | undefined): SyncCursor {
  const map: SyncCursor = new Map();
  if (!cursor) return map;
  // atob would also take '+', '/', '=' and whitespace: only the server's alphabet (unpadded) makes a cursor.
  if (!BASE64URL.test(cursor) || cursor.length % 4 === 1) throw new Error('the saved cursor is not a syncMessages cursor');
  const binary = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
  const text = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  if (text === '') return map;
  for (const entry of text.split(',')) {
    const match = ENTRY.exec(entry);
    if (!match) throw new Error('the saved cursor is not a syncMessages cursor');
    map.set(match[1]!, Number(match[2]));
  }
  return map;
}

/** The cursor string of a map, entries in the map's order (as the server writes it). */
export function encodeCursor(cursor: ReadonlyMap<string, number>): string {
  let binary = '';
  // Byte by byte: spreading a cursor of thousands of conversations into fromCharCode would overflow the stack.
  for (const byte of new TextEncoder().encode([...cursor].map(([conversation, seq]) => `${conversation}:${seq}`).join(','))) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
