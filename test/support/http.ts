import type { Endpoint } from './client';

/** A raw HTTP answer: status, headers, text, and the text parsed as JSON when it is JSON. */
export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** Any request to a server path, answered as is (no GraphQL client in between). */
export async function raw(server: Endpoint, path: string, init?: RequestInit): Promise<RawResponse> {
  const response = await fetch(`${server.url}${path}`, init);
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** A POST of `body` as it is. */
export const post = (body: string, contentType = 'application/json', headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': contentType, ...headers },
  body,
});

/** Fails when an answer shows a stack trace or source locations. */
export function expectNoStack(text: string): void {
  expect(text).not.toMatch(/stacktrace/i);
  expect(text).not.toMatch(/\bat [^\s]+ \(/);
  expect(text).not.toMatch(/\.(ts|js):\d+/);
}
