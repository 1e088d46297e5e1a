/**
 * `Content-Disposition: attachment` offering `filename`: a plain `filename` for old clients (non-ASCII, quotes,
 * backslashes and control characters replaced by '_') and the exact name as RFC 5987 `filename*` (UTF-8,
 * percent-encoded), which every current browser prefers.
 */
export function attachment(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  // encodeURIComponent leaves ' ( ) * unencoded, which RFC 5987's attr-char does not allow.
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
