import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { answerError, networkError, type GraphQLErrorEntry } from './errors';

/** Sends one GraphQL operation over HTTP; injectable so that tests and apps choose the `fetch`. */
export type HttpTransport = <R, V>(document: TypedDocumentNode<R, V>, variables: V | undefined, accessToken?: string) => Promise<R>;

/** Printed once per document: the generated documents are constants, printing them per request is waste. */
const printed = new WeakMap<object, string>();

/** The query text of a generated document. */
export function source(document: object): string {
  let text = printed.get(document);
  if (text === undefined) printed.set(document, (text = print(document as Parameters<typeof print>[0])));
  return text;
}

/** The Retry-After header (seconds) in ms, when present. */
function retryAfterHeader(response: Response): number | undefined {
  const seconds = Number(response.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/**
 * POSTs operations to `url`. Rejects with an {@link ImError}: NETWORK (retryable) when no GraphQL answer came
 * or the server answered 5xx/429 (a busy server's 503 names its Retry-After), else the answer's first error.
 */
export function httpTransport(url: string, fetchImpl: typeof fetch): HttpTransport {
  return async (document, variables, accessToken) => {
    let response: Response;
    let body: { data?: unknown; errors?: GraphQLErrorEntry[] } | undefined;
    try {
      response = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}) },
        body: JSON.stringify({ query: source(document), variables: variables ?? {} }),
      });
      body = (await response.json().catch(() => undefined)) as typeof body;
    } catch (error) {
      throw networkError(`request failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (response.status >= 500 || response.status === 429) {
      const first = body?.errors?.[0];
      throw networkError(first?.message ?? `server answered ${response.status}`, retryAfterHeader(response) ?? first?.extensions?.retryAfterMs);
    }
    if (body?.errors?.length) throw answerError(body.errors);
    if (!body || body.data == null) throw networkError(`server answered ${response.status} without data`);
    return body.data as never;
  };
}
