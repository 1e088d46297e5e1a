import { BREAK, GraphQLError, Kind, visit, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import depthLimit from 'graphql-depth-limit';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';

/** Bounds on what one operation may ask for. */
export interface OperationLimits {
  /** Deepest selection allowed. */
  maxDepth: number;
  /** Highest cost allowed: one point a field, a paged list's selection counted once per item it may answer. */
  maxCost: number;
}

/** The depth rule, as a validation rule for Apollo and graphql-ws alike. */
export const depthRule = (limits: OperationLimits): ValidationRule => depthLimit(limits.maxDepth);

/**
 * Costs of documents whose cost cannot depend on variables, per operation name. Apollo and the subscription
 * document cache hand back the same DocumentNode for the same text, so the sends of a busy client are costed once.
 */
const fixedCosts = new WeakMap<DocumentNode, Map<string, number> | null>();

/** Whether variables can change a document's cost: through @skip or @include, or as the size of a page. */
function costDependsOnVariables(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      if (node.name.value !== 'skip' && node.name.value !== 'include') return undefined;
      found = true;
      return BREAK;
    },
    Argument(node) {
      if (node.name.value !== 'first' || node.value.kind !== Kind.VARIABLE) return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}

/**
 * The cost of an operation, or an error naming the limit. Runs after validation, when variables are known.
 * A field costs one point plus its selection; a paged list (see `common/paging.ts`) costs its selection once per
 * item it may answer, so the cost counts what the answer can hold.
 */
export function costError(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | null | undefined,
  limits: OperationLimits,
): GraphQLError | undefined {
  let known = fixedCosts.get(document);
  if (known === undefined) fixedCosts.set(document, (known = costDependsOnVariables(document) ? null : new Map()));
  const cached = known?.get(operationName ?? '');
  if (cached !== undefined) return cached <= limits.maxCost ? undefined : tooCostly(cached, limits);
  let cost: number;
  try {
    cost = getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      operationName: operationName ?? undefined,
      estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch (error) {
    // getComplexity coerces the variables first: a variable of the wrong type is the client's mistake.
    if (error instanceof GraphQLError) return new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT' } });
    throw error;
  }
  known?.set(operationName ?? '', cost);
  return cost <= limits.maxCost ? undefined : tooCostly(cost, limits);
}

const tooCostly = (cost: number, limits: OperationLimits): GraphQLError =>
  new GraphQLError(`query: costs ${cost}, above the limit of ${limits.maxCost}`, { extensions: { code: 'BAD_USER_INPUT' } });
