import { BREAK, GraphQLError, visit, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import depthLimit from 'graphql-depth-limit';
import { getComplexity, simpleEstimator } from 'graphql-query-complexity';

/** Bounds on what one operation may ask for. */
export interface OperationLimits {
  /** Deepest selection allowed. */
  maxDepth: number;
  /** Highest cost allowed, one point a field. */
  maxCost: number;
}

/** The depth rule, as a validation rule for Apollo and graphql-ws alike. */
export const depthRule = (limits: OperationLimits): ValidationRule => depthLimit(limits.maxDepth);

/**
 * The cost of an operation, or an error naming the limit. Runs after validation, when variables are known
 * (list sizes are not multiplied in: every list the API returns is bounded server-side).
 */
/**
 * Costs of documents whose cost cannot depend on variables (no @skip or @include), per operation name. Apollo
 * and the subscription document cache hand back the same DocumentNode for the same text, so the sends of a
 * busy client are costed once.
 */
const fixedCosts = new WeakMap<DocumentNode, Map<string, number> | null>();

function hasConditionalDirective(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      if (node.name.value === 'skip' || node.name.value === 'include') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

export function costError(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | null | undefined,
  limits: OperationLimits,
): GraphQLError | undefined {
  let known = fixedCosts.get(document);
  if (known === undefined) fixedCosts.set(document, (known = hasConditionalDirective(document) ? null : new Map()));
  const cached = known?.get(operationName ?? '');
  if (cached !== undefined) return cached <= limits.maxCost ? undefined : tooCostly(cached, limits);
  let cost: number;
  try {
    cost = getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      operationName: operationName ?? undefined,
      estimators: [simpleEstimator({ defaultComplexity: 1 })],
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
