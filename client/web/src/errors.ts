/** One GraphQL error as urql's CombinedError and the SDK's ImError both carry it. */
interface ErrorEntry {
  message: string;
  extensions?: { reason?: unknown; field?: unknown };
}

/** The admin's words (or the filter's) after the "field: " and "…banned until …: " the server puts before them. */
const afterLastColon = (message: string): string => message.slice(message.lastIndexOf(': ') + 2);

/** Readable sentences for the refusals a client acts on (`extensions.reason`); anything else keeps the server's words. */
const REASONS: Record<string, (error: ErrorEntry) => string> = {
  GROUP_MUTED: () => 'Everyone is muted in this group: only the owner and admins can send.',
  GROUP_BANNED: (e) => `This group was suspended: ${afterLastColon(e.message)}`,
  BANNED: (e) => `Your account was suspended: ${afterLastColon(e.message)}`,
  MODERATION: (e) => `Your ${typeof e.extensions?.field === 'string' ? e.extensions.field : 'text'} contains words that are not allowed here.`,
};

const readable = (error: ErrorEntry): string => {
  const reason = error.extensions?.reason;
  return (typeof reason === 'string' && REASONS[reason]?.(error)) || error.message;
};

/** A message a person can read, from whatever a request rejected with (a GraphQL error names the field). */
export function errorText(error: unknown): string {
  if (error && typeof error === 'object') {
    // urql names them graphQLErrors, the SDK errors.
    const entries = (error as { graphQLErrors?: ErrorEntry[] }).graphQLErrors ?? (error as { errors?: ErrorEntry[] }).errors;
    if (entries?.length) return entries.map(readable).join('; ');
    if ('message' in error && typeof error.message === 'string') return error.message.replace(/^\[GraphQL\] /, '');
  }
  return String(error);
}
