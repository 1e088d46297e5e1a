/** The part of `negotiator` (the Accept parser Apollo Server uses) that direct execution needs; it ships no types. */
declare module 'negotiator' {
  export default class Negotiator {
    constructor(request: { headers: Record<string, string | undefined> });
    /** The best of `available` for the request's Accept header, or undefined when none is acceptable. */
    mediaType(available: string[]): string | undefined;
  }
}
