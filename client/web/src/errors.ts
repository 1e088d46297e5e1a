/** A message a person can read, from whatever a request rejected with (a GraphQL error names the field). */
export function errorText(error: unknown): string {
  if (error && typeof error === 'object') {
    const graphQLErrors = (error as { graphQLErrors?: { message: string }[] }).graphQLErrors;
    if (graphQLErrors?.length) return graphQLErrors.map((e) => e.message).join('; ');
    if ('message' in error && typeof error.message === 'string') return error.message.replace(/^\[GraphQL\] /, '');
  }
  return String(error);
}
