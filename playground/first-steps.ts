/**
 * The playground's tabs: each feature's first steps as named operations (the play button's menu picks one), with
 * placeholder variables to replace with the ids earlier steps return. test/playground.test.ts validates every
 * document against the schema, so a tab cannot drift from the API.
 */

/** One tab of the playground. */
export interface FirstStepsTab {
  /** A GraphQL document: comments that explain the steps, then named operations. */
  query: string;
  /** Placeholder variables for its operations. @default none */
  variables?: Record<string, unknown>;
}

const EVENTS_QUERY = `# Welcome to the GraphQL playground.
#
# 1. Run the register (or login) mutation: its
#    arguments are in the Docs (book icon, left).
# 2. Paste the token it returns into Headers below:
#      {"Authorization": "Bearer <token>"}
#    HTTP requests send it as that header, and
#    subscriptions as the WebSocket connection's
#    "authorization" parameter.
# 3. Run this subscription, then send a message
#    (in another tab) to see it arrive.

subscription {
  events {
    __typename
    ... on MessageEvent {
      message {
        id
        content
        seq
      }
    }
  }
}
`;

/**
 * The README's "first chat", one named operation per step: pick the one to run with the play button's menu.
 * Variables are placeholders to replace with the ids that earlier steps return.
 */
const FIRST_CHAT_QUERY = `# A first chat: run these in order (the play button's menu picks one).
# After Register, put the token in Headers: {"Authorization": "Bearer <token>"}.
# Run Register twice (two usernames, one per browser tab), then befriend,
# accept with the other user's token, subscribe in one tab and send from the other.

mutation Register($username: String!, $password: String!) {
  register(input: { username: $username, password: $password, nickname: $username }) {
    accessToken
    user { id username }
  }
}

mutation Login($username: String!, $password: String!) {
  login(input: { username: $username, password: $password }) { accessToken user { id } }
}

query FindUser($query: String!) {
  searchUsers(query: $query) { id username nickname online }
}

mutation Befriend($userId: ID!) {
  sendFriendApplication(userId: $userId, message: "Hi!") { id status }
}

query IncomingApplications {
  applications(direction: INCOMING, status: PENDING) { id applicant { username } message }
}

mutation Accept($applicationId: ID!) {
  acceptApplication(id: $applicationId) { status }
}

subscription Events {
  events {
    __typename
    ... on MessageEvent { message { seq content sender { nickname } } }
    ... on ReadReceiptEvent { conversationId seq reader { nickname } }
  }
}

mutation Send($userId: ID!, $content: String!, $clientMessageId: String!) {
  sendMessage(input: { toUserId: $userId, content: $content, clientMessageId: $clientMessageId }) { id seq conversationId }
}

query Contacts {
  contacts { conversationId unreadCount peer { nickname online } lastMessage { content } }
}

mutation MarkRead($conversationId: ID!) {
  markConversationRead(conversationId: $conversationId) { unreadCount }
}
`;

const CALLS_QUERY = `# A 1:1 call between two friends (README: Calls). The server relays WebRTC
# signals; media flows peer to peer. Run Ring with the caller's token while the
# callee's tab runs CallEvents; Accept with the callee's token; then each side
# relays its SDP (OFFER from the caller, ANSWER from the callee) and its ICE
# candidates with Signal, and either side hangs up. The call leaves a CALL
# message in the pair's conversation.

query IceServers {
  iceServers { urls username credential }
}

subscription CallEvents {
  events {
    __typename
    ... on CallEvent { callChange call { id state media outcome durationSeconds caller { nickname } } signal { kind payload } }
    ... on MessageEvent { message { type content } }
  }
}

mutation Ring($calleeId: ID!) {
  inviteCall(calleeId: $calleeId, media: VIDEO) { id state }
}

mutation Accept($callId: ID!) {
  acceptCall(callId: $callId) { state acceptedAt }
}

mutation Signal($callId: ID!, $payload: String!) {
  sendCallSignal(callId: $callId, kind: OFFER, payload: $payload)
}

mutation HangUp($callId: ID!) {
  hangUpCall(callId: $callId) { outcome durationSeconds }
}
`;

const GROUP_DETAILS_QUERY = `# Group details (README: Group details): your display name in a group, private
# remarks only you see, and the owner/admin switch that mutes everyone else.

mutation MyNameInGroup($groupId: ID!) {
  setGroupDisplayName(groupId: $groupId, displayName: "Alice (design)") { id members(first: 20) { user { nickname } displayName } }
}

mutation RemarkGroup($groupId: ID!) {
  setGroupRemark(groupId: $groupId, remark: "weekly sync") { id name remark }
}

mutation RemarkFriend($userId: ID!) {
  setFriendRemark(userId: $userId, remark: "Bob from the gym") { remark user { nickname } }
}

mutation MuteEveryone($groupId: ID!) {
  setGroupMuteAll(groupId: $groupId, muted: true) { id mutedAll }
}
`;

const NOTIFICATIONS_QUERY = `# Offline notifications (README: Offline notifications): a message or a call to a
# user with no live terminal is handed to the push port, which POSTs signed JSON to
# PUSH_WEBHOOK_URL. Muting a conversation stops them, except for mentions of you.

query MyConversations {
  contacts(first: 20) { conversationId muted unreadCount }
}

mutation Mute($conversationId: ID!) {
  setContactMuted(conversationId: $conversationId, muted: true) { conversationId muted }
}
`;

const ADMIN_QUERY = `# Administration (README: Administration). On the server's host, make someone an
# admin:   npm run admin -- grant <username>
# Then, with that admin's token: find users and groups, ban and unban them (a
# banned user's sessions end at once with 4403), and read the audit log.
# Moderation: word lists that mask or refuse words in messages, nicknames,
# signatures, group names and notices, applied on every node at once.

query Users($prefix: String) {
  adminUsers(first: 20, filter: { usernamePrefix: $prefix }) { id username role ban { reason until } }
}

mutation Ban($userId: ID!) {
  banUser(userId: $userId, reason: "spam", until: "2030-01-01T00:00:00Z") { reason until }
}

mutation Unban($userId: ID!) {
  unbanUser(userId: $userId, reason: "appeal accepted") { reason }
}

query Groups {
  adminGroups(first: 20, filter: { banned: false }) { id name memberCount ban { reason } }
}

query AuditLog {
  auditLog(first: 20) { createdAt actorId action subjectType subjectId reason details }
}

mutation NewWordList {
  createWordList(name: "profanity", action: MASK) { id name version }
}

mutation AddWords($listId: ID!) {
  addWords(listId: $listId, words: ["darn", "heck"]) { wordCount version }
}

query WordLists {
  wordLists { id name action wordCount words }
}
`;

const SERVICE_QUERY = `# Messages from other services (README: Service messages). On the host:
#   npm run admin -- service create billing
# prints an API key (imsk_...) once. Put it in Headers as
#   {"Authorization": "Bearer imsk_..."}   (or {"X-Api-Key": "imsk_..."})
# A key may only call these two fields. A retry with the same idempotencyKey
# returns the first message and stores nothing.

query Me {
  serviceAccount { id name }
}

mutation Notify($userId: ID!) {
  sendSystemMessage(input: { toUserId: $userId, content: "Your invoice is ready", idempotencyKey: "invoice-42" }) { id seq conversationId type }
}
`;

/** The tabs, in the order the playground opens them: the first chat first. */
export const FIRST_STEPS: FirstStepsTab[] = [
  {
    query: FIRST_CHAT_QUERY,
    variables: { username: 'alice', password: 'password-a', query: 'bob', userId: '<id>', applicationId: '<id>', content: 'Hello!', clientMessageId: 'm1', conversationId: '<id>' },
  },
  { query: EVENTS_QUERY },
  { query: CALLS_QUERY, variables: { calleeId: '<friend id>', callId: '<call id>', payload: 'v=0 ...' } },
  { query: GROUP_DETAILS_QUERY, variables: { groupId: '<group id>', userId: '<friend id>' } },
  { query: NOTIFICATIONS_QUERY, variables: { conversationId: '<conversation id>' } },
  { query: ADMIN_QUERY, variables: { prefix: 'bo', userId: '<user id>', listId: '<word list id>' } },
  { query: SERVICE_QUERY, variables: { userId: '<user id>' } },
];
