import { cacheExchange, Client, fetchExchange } from 'urql';
import type { ImClient } from '../../sdk';
import { saveTokens } from './session';

/**
 * The urql client behind the generated hooks. Every request carries a fresh access token from the SDK (which
 * refreshes it before expiry), so queries, mutations and the event stream share one session. The document
 * cache refetches a query when a mutation returns a type it holds (e.g. setContactPinned → Contact → contacts).
 * Each query shows what the cache holds and asks the server again when its component mounts: a panel hears the
 * events that change its list only while it is shown, and a list cached while it was empty (no typename in it)
 * is refetched by no mutation.
 */
export function createUrqlClient(im: ImClient): Client {
  return new Client({
    url: `${location.origin}/graphql`,
    exchanges: [cacheExchange, fetchExchange],
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    fetch: async (input, init) => {
      const token = await im.accessToken();
      saveTokens(im);
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    },
  });
}
