import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';

/** A parsed and validated operation, or why it is refused. */
export type CheckedDocument = { document: DocumentNode; errors?: undefined } | { document?: undefined; errors: readonly GraphQLError[] };

/**
 * Parses and validates each distinct operation text once. Mobile and web clients send the same few
 * subscription documents on every connection; sharing one AST between them saves the parse and validation
 * work and, on a push node, a copy of the AST per connection.
 */
export class DocumentCache {
  private readonly entries = new Map<string, CheckedDocument>();

  /**
   * @param schema what documents are validated against
   * @param rules validation rules
   * @param capacity distinct documents kept; the oldest goes first @default 500
   */
  constructor(
    private readonly schema: GraphQLSchema,
    private readonly rules: readonly ValidationRule[],
    private readonly capacity = 500,
  ) {}

  check(query: string): CheckedDocument {
    const hit = this.entries.get(query);
    if (hit) return hit;
    let checked: CheckedDocument;
    try {
      const document = parse(query);
      const errors = validate(this.schema, document, this.rules);
      checked = errors.length ? { errors } : { document };
    } catch (error) {
      checked = { errors: [error as GraphQLError] };
    }
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(query, checked);
    return checked;
  }
}
