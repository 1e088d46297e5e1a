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
import { FIRST_STEPS } from './first-steps';
import './index.css';

// The page is served at the GraphQL endpoint, so its own path is the endpoint:
// queries and mutations go there over HTTP, subscriptions over a WebSocket.
const endpoint = window.location.pathname;
const wsUrl = `${window.location.protocol === 'https:' ? 'wss:' : 'ws:'}//${window.location.host}${endpoint}`;

const DEFAULT_HEADERS = '{"Authorization": "Bearer "}';

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
    defaultTabs={FIRST_STEPS.map((tab) => ({ query: tab.query, variables: tab.variables && JSON.stringify(tab.variables, null, 2), headers: DEFAULT_HEADERS }))}
    defaultHeaders={DEFAULT_HEADERS}
    defaultEditorToolsVisibility="headers"
    onEditHeaders={onEditHeaders}
  />,
);
