import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import { MAX_TOKENS } from './limits';

/** A parsed and validated operation, or why it is refused. */
export type CheckedDocument = { document: DocumentNode; errors?: undefined } | { document?: undefined; errors: readonly GraphQLError[] };

/** A parse or validation error as the client's mistake: BAD_USER_INPUT, with graphql-js's message and locations. */
const refused = (error: GraphQLError): GraphQLError =>
  new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { code: 'BAD_USER_INPUT' } });

/**
 * Parses and validates each distinct operation text once. Mobile and web clients send the same few
 * subscription documents on every connection; sharing one AST between them saves the parse and validation
 * work and, on a push node, a copy of the AST per connection. Only documents the caller accepted in the end
 * are kept ({@link keep}, after its cost check: a client cannot fill the cache with documents that are refused
 * anyway), each of at most `maxEntryBytes` of text, within a budget of query text whose least recently used
 * entries go first; an AST takes memory in proportion to its text.
 */
export class DocumentCache {
  /** Valid documents by their text, least recently used first. */
  private readonly entries = new Map<string, DocumentNode>();
  private bytes = 0;

  /**
   * @param schema what documents are validated against
   * @param rules validation rules
   * @param maxBytes total length of the query texts kept (UTF-8 bytes) @default 1048576
   * @param maxEntryBytes longest query text kept (UTF-8 bytes); a longer one is checked every time @default 16384
   */
  constructor(
    private readonly schema: GraphQLSchema,
    private readonly rules: readonly ValidationRule[],
    private readonly maxBytes = 1024 * 1024,
    private readonly maxEntryBytes = 16 * 1024,
  ) {}

  /** Bytes of query text held now. */
  get size(): number {
    return this.bytes;
  }

  /**
   * The document of `query`, parsed and validated (or taken from the cache), or why it is refused
   * (BAD_USER_INPUT). Nothing is kept until {@link keep}.
   */
  check(query: string): CheckedDocument {
    const hit = this.entries.get(query);
    if (hit) {
      this.entries.delete(query);
      this.entries.set(query, hit);
      return { document: hit };
    }
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: MAX_TOKENS });
    } catch (error) {
      // graphql-js overflows its stack on a few thousand levels of nesting rather than reporting a syntax error.
      return { errors: [error instanceof GraphQLError ? refused(error) : new GraphQLError('query: nested too deeply', { extensions: { code: 'BAD_USER_INPUT' } })] };
    }
    const errors = validate(this.schema, document, this.rules);
    if (errors.length) return { errors: errors.map(refused) };
    return { document };
  }

  /** Keeps the document {@link check} gave for `query` once the caller accepted it (a hit is kept already). */
  keep(query: string, document: DocumentNode): void {
    if (this.entries.has(query)) return;
    const bytes = Buffer.byteLength(query);
    if (bytes > this.maxEntryBytes || bytes > this.maxBytes) return;
    for (const [oldest] of this.entries) {
      if (this.bytes + bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= Buffer.byteLength(oldest);
    }
    this.entries.set(query, document);
    this.bytes += bytes;
  }
}
