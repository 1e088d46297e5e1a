import Negotiator from 'negotiator';
import { execute, getOperationAST, GraphQLError, NoSchemaIntrospectionCustomRule, specifiedRules, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { RequestContext } from '../auth/context';
import { formatError } from '../common/errors';
import type { Logger } from '../common/logger';
import { countOperation } from '../metrics/graphql-metrics';
import type { Metrics } from '../metrics/metrics';
import { DocumentCache } from './document-cache';
import { costError, depthRule, type OperationLimits } from './limits';
import { pagedResultsRule } from './paged-results-rule';

/** What a request must be for {@link DirectExecution} to answer it; Apollo answers everything else. */
export interface DirectRequest {
  method: string;
  /** The request's Accept header. */
  accept: string | undefined;
  /** The parsed JSON body. */
  body: unknown;
}

/**
 * A response as {@link DirectExecution.run} builds it: Apollo's status, content type and body for the same request.
 * Its other header is Apollo's `cache-control: no-store` (no field of this schema carries a cache hint).
 */
export interface DirectResponse {
  status: number;
  contentType: string;
  body: string;
}

/** Options of {@link DirectExecution}. */
export interface DirectExecutionOptions {
  schema: GraphQLSchema;
  limits: OperationLimits;
  /** Whether introspection is on; when off, documents that introspect are left to Apollo, which refuses them. */
  introspection: boolean;
  log: Logger;
  /** Where the operations it answers are counted. */
  metrics: Metrics;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const GRAPHQL_RESPONSE_TYPE = 'application/graphql-response+json; charset=utf-8';
const CALLBACK_TYPE = 'application/json; callbackSpec=1.0; charset=utf-8';

/** Distinct Accept headers whose answer is remembered; clients send a handful. */
const MAX_ACCEPT_ENTRIES = 64;

/**
 * Runs well-formed POST requests with a valid document straight on graphql-js, without Apollo's request
 * pipeline: on the send path Apollo's per-request work (hashing the query text, plugin hooks, copying the
 * context and the headers) cost more CPU than executing the mutation. The answer is the one Apollo would give
 * (status, content type, `errors` before `data`, errors shaped by `formatError`); whatever could be answered
 * differently (GET, batches, extensions, an unknown Accept, a document or variables that do not pass) is left
 * to Apollo, before anything has executed.
 */
export class DirectExecution {
  private readonly documents: DocumentCache;
  private readonly contentTypes = new Map<string, string | null>();

  constructor(private readonly options: DirectExecutionOptions) {
    const rules = [...specifiedRules, depthRule(options.limits), pagedResultsRule];
    if (!options.introspection) rules.push(NoSchemaIntrospectionCustomRule);
    this.documents = new DocumentCache(options.schema, rules);
  }

  /**
   * Executes the request and returns Apollo's answer to it, or undefined (nothing executed) when Apollo must
   * answer it. `context` is called only for requests that are executed here.
   */
  async run(request: DirectRequest, context: () => Promise<RequestContext>): Promise<DirectResponse | undefined> {
    if (request.method !== 'POST') return undefined;
    const body = request.body as Record<string, unknown> | null;
    if (!body || typeof body !== 'object' || Array.isArray(body) || body.extensions !== undefined) return undefined;
    const { query, variables, operationName } = body;
    if (typeof query !== 'string' || (operationName != null && typeof operationName !== 'string')) return undefined;
    if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined;
    const contentType = this.contentType(request.accept);
    if (!contentType) return undefined;

    const checked = this.documents.check(query);
    if (checked.errors) return undefined;
    const { document } = checked;
    const vars = (variables ?? undefined) as Record<string, unknown> | undefined;
    const opName = (operationName ?? undefined) as string | undefined;
    const operation = getOperationAST(document, opName);
    if (!operation || operation.operation === 'subscription') return undefined;
    if (costError(this.options.schema, document, vars, opName, this.options.limits)) return undefined;
    this.documents.keep(query, document);

    const contextValue = await context();
    const result = await execute({ schema: this.options.schema, document, variableValues: vars, operationName: opName, contextValue });
    // No data at all: the variables did not coerce, and no resolver ran. Apollo words that answer (400).
    if (result.data === undefined) return undefined;
    const errors = result.errors?.map((error) => this.format(error));
    countOperation(this.options.metrics, document, operation, errors);
    return { status: 200, contentType, body: JSON.stringify({ errors, data: result.data, extensions: result.extensions }) + '\n' };
  }

  /** The content type Apollo answers this Accept header with, or null when it would refuse it (406). */
  private contentType(accept: string | undefined): string | null {
    if (!accept) return JSON_TYPE;
    let type = this.contentTypes.get(accept);
    if (type === undefined) {
      type = new Negotiator({ headers: { accept } }).mediaType([JSON_TYPE, GRAPHQL_RESPONSE_TYPE, CALLBACK_TYPE]) ?? null;
      // A callback client expects Apollo's own framing; leave it to Apollo.
      if (type === CALLBACK_TYPE) type = null;
      if (this.contentTypes.size >= MAX_ACCEPT_ENTRIES) this.contentTypes.clear();
      this.contentTypes.set(accept, type);
    }
    return type;
  }

  /** What Apollo's error normalisation and then `formatError` make of an execution error. */
  private format(error: GraphQLError): GraphQLFormattedError {
    const formatted = { ...error.toJSON(), extensions: { ...error.extensions, code: error.extensions.code ?? 'INTERNAL_SERVER_ERROR' } };
    return formatError(formatted, error, (err) => this.options.log.error({ err }, 'internal error'));
  }
}
