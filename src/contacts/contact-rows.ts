/**
 * The contacts row that puts a private conversation in a user's list, read from the start, neither pinned nor
 * muted: friends get one each when they befriend, a user one when a service account first writes to them.
 */
export const newPrivateContact = (userId: string, conversationId: string, peer: string, now: number): Record<string, unknown> => ({
  user_id: userId,
  conversation_id: conversationId,
  type: 'PRIVATE',
  peer,
  read_seq: 0,
  pinned: false,
  muted: false,
  visible_from_seq: 0,
  created_at: now,
  updated_at: now,
});
