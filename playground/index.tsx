/**
 * GraphQL playground: a GraphiQL 4 app bundled by scripts/build-playground.mjs and
 * served by src/transport/playground.ts at the GraphQL endpoint itself (a GET that
 * prefers text/html). Everything it loads comes from this server.
 */
import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createClient, type Client } from 'graphql-ws';
import { createRoot } from 'react-dom/client';
import 'graphiql/style.css';
import './index.css';

// The page is served at the GraphQL endpoint, so its own path is the endpoint:
// queries and mutations go there over HTTP, subscriptions over a WebSocket.
const endpoint = window.location.pathname;
const wsUrl = `${window.location.protocol === 'https:' ? 'wss:' : 'ws:'}//${window.location.host}${endpoint}`;

const DEFAULT_HEADERS = '{"Authorization": "Bearer "}';

const DEFAULT_QUERY = `# Welcome to the GraphQL playground.
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

const FIRST_CHAT_VARIABLES = JSON.stringify(
  { username: 'alice', password: 'password-a', query: 'bob', userId: '<id>', applicationId: '<id>', content: 'Hello!', clientMessageId: 'm1', conversationId: '<id>' },
  null,
  2,
);

/** The Authorization header's value (name in any case) in a headers object, trimmed; '' when absent. */
function authorizationOf(headers: Record<string, unknown> | undefined): string {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() === 'authorization' && typeof value === 'string') return value.trim();
  }
  return '';
}

/** The headers editor's text as an object, or undefined while it is not a JSON object. */
function parseHeaders(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text || '{}');
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

// The token the WebSocket connection authenticates with. connectionParams reads it
// lazily, on every (re)connect.
let authorization = authorizationOf(parseHeaders(DEFAULT_HEADERS));

function createWsClient(): Client {
  return createClient({
    url: wsUrl,
    connectionParams: () => (authorization ? { authorization } : {}),
  });
}

let wsClient = createWsClient();
let fetcher = createGraphiQLFetcher({ url: endpoint, wsClient });

/**
 * Makes `next` the token of the subscription connection. graphql-ws authenticates a
 * connection once, when it opens, so a changed token needs a new client: the old one
 * is disposed, which closes its connection and ends its running subscriptions (GraphiQL
 * shows them as stopped; run them again). terminate() would not do: graphql-ws then
 * reconnects the same client and resumes its subscriptions.
 */
function setAuthorization(next: string): void {
  if (next === authorization) return;
  authorization = next;
  const old = wsClient;
  wsClient = createWsClient();
  fetcher = createGraphiQLFetcher({ url: endpoint, wsClient });
  Promise.resolve(old.dispose()).catch(() => undefined); // a connection that failed anyway
}

// GraphiQL passes the headers it sends with each operation: those are the ones that count.
const playgroundFetcher: Fetcher = (params, options) => {
  if (options?.headers) setAuthorization(authorizationOf(options.headers));
  return fetcher(params, options);
};

function onEditHeaders(text: string): void {
  const headers = parseHeaders(text);
  if (headers) setAuthorization(authorizationOf(headers));
}

createRoot(document.getElementById('graphiql')!).render(
  <GraphiQL
    fetcher={playgroundFetcher}
    defaultTabs={[
      { query: FIRST_CHAT_QUERY, variables: FIRST_CHAT_VARIABLES, headers: DEFAULT_HEADERS },
      { query: DEFAULT_QUERY, headers: DEFAULT_HEADERS },
    ]}
    defaultHeaders={DEFAULT_HEADERS}
    defaultEditorToolsVisibility="headers"
    onEditHeaders={onEditHeaders}
  />,
);
