import { badInput } from '../common/errors';

/**
 * A syncMessages cursor: for each conversation, the highest seq already handed to the client.
 *
 * Why per conversation: a seq is allocated by incrementing the conversation's row, which stays locked until
 * the sending transaction commits, so within one conversation seqs become visible strictly in order. "Every seq
 * above what I have" therefore never skips a message, whereas a global auto-increment id can commit out of
 * order (id 8 visible before id 7), and a client that saw 8 would never ask for 7.
 * Encoded as base64url of "conversationId:seq,..." so that it is opaque but compact.
 */
export type SyncCursor = Map<string, number>;

export function decodeCursor(cursor: string | null | undefined): SyncCursor {
  const map: SyncCursor = new Map();
  if (!cursor) return map;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // Node's base64 decoder skips characters outside the alphabet, so '%%%' would decode to '' (from scratch):
  // only the exact encoding of the decoded text is a cursor this server issued.
  if (Buffer.from(text, 'utf8').toString('base64url') !== cursor) throw badInput('cursor', 'is not a cursor returned by syncMessages');
  if (text === '') return map;
  for (const part of text.split(',')) {
    const match = /^([1-9][0-9]{0,18}):([0-9]{1,10})$/.exec(part);
    if (!match) throw badInput('cursor', 'is not a cursor returned by syncMessages');
    map.set(match[1]!, Number(match[2]));
  }
  return map;
}

export function encodeCursor(cursor: SyncCursor): string {
  return Buffer.from([...cursor].map(([conversation, seq]) => `${conversation}:${seq}`).join(','), 'utf8').toString('base64url');
}
