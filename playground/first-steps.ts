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

/** The tabs, in the order the playground opens them: the first chat first. */
export const FIRST_STEPS: FirstStepsTab[] = [
  {
    query: FIRST_CHAT_QUERY,
    variables: { username: 'alice', password: 'password-a', query: 'bob', userId: '<id>', applicationId: '<id>', content: 'Hello!', clientMessageId: 'm1', conversationId: '<id>' },
  },
  { query: EVENTS_QUERY },
  { query: CALLS_QUERY, variables: { calleeId: '<friend id>', callId: '<call id>', payload: 'v=0 ...' } },
];
