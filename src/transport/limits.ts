import {
  BREAK,
  GraphQLError,
  getOperationAST,
  Kind,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';

/**
 * Most tokens a document may have; the parser stops there. Validation (OverlappingFieldsCanBeMerged above all)
 * grows faster than the document and runs before authentication and the cost check, so a body of one repeated
 * field must be cut short at the parse. 20,000 leaves room for the 5,000 aliased fields that hostile.test.ts
 * answers.
 */
export const MAX_TOKENS = 20_000;

/** Bounds on what one operation may ask for. */
export interface OperationLimits {
  /** Deepest selection allowed. */
  maxDepth: number;
  /** Highest cost allowed: one point a field, a paged list's selection counted once per item it may answer. */
  maxCost: number;
}

/**
 * The depth rule, as a validation rule for Apollo and graphql-ws alike: no field may sit more than `maxDepth`
 * selections below an operation's root fields (introspection fields are not followed, so that tools can read the
 * schema). The walk keeps its own stack and expands a fragment again only at a greater depth than before, so
 * fragment cycles, unknown fragments and hostile nesting end with an error rather than a stack overflow (which
 * graphql-depth-limit ran into on a fragment cycle).
 */
export const depthRule =
  (limits: OperationLimits): ValidationRule =>
  (context) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    for (const operation of context.getDocument().definitions) {
      if (operation.kind !== Kind.OPERATION_DEFINITION) continue;
      const expandedAt = new Map<string, number>();
      const pending: Array<{ set: SelectionSetNode; depth: number }> = [{ set: operation.selectionSet, depth: 0 }];
      for (let next = pending.pop(); next; next = pending.pop()) {
        if (next.depth > limits.maxDepth) {
          context.reportError(new GraphQLError(`query: deeper than the depth limit of ${limits.maxDepth}`, { nodes: [operation] }));
          break;
        }
        for (const selection of next.set.selections) {
          if (selection.kind === Kind.FIELD) {
            if (selection.selectionSet && !selection.name.value.startsWith('__')) pending.push({ set: selection.selectionSet, depth: next.depth + 1 });
          } else if (selection.kind === Kind.INLINE_FRAGMENT) {
            pending.push({ set: selection.selectionSet, depth: next.depth });
          } else {
            const fragment = fragments.get(selection.name.value);
            if (!fragment || (expandedAt.get(fragment.name.value) ?? -1) >= next.depth) continue;
            expandedAt.set(fragment.name.value, next.depth);
            pending.push({ set: fragment.selectionSet, depth: next.depth });
          }
        }
      }
    }
    return {};
  };

/**
 * Costs of documents whose cost cannot depend on variables, per operation name. Apollo and the subscription
 * document cache hand back the same DocumentNode for the same text, so the sends of a busy client are costed once.
 */
const fixedCosts = new WeakMap<DocumentNode, Map<string, number> | null>();

/** Whether variables can change a document's cost: through @skip or @include, or as the size of a list. */
function costDependsOnVariables(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      if (node.name.value !== 'skip' && node.name.value !== 'include') return undefined;
      found = true;
      return BREAK;
    },
    Argument(node) {
      if ((node.name.value !== 'first' && node.name.value !== 'limit') || node.value.kind !== Kind.VARIABLE) return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}

/**
 * The cost of an operation, or an error naming the limit (or the operationName that picks out no operation). Runs
 * after validation, when variables are known.
 * A field costs one point plus its selection; a list sized by `first` or `limit` (see `common/paging.ts`) costs
 * its selection once per item it may answer, so the cost counts what the answer can hold.
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
  // Apollo has picked the operation out before this runs; graphql-ws leaves an unknown name to execution, which
  // reports it without a code.
  if (!getOperationAST(document, operationName)) {
    return new GraphQLError('operationName: names no operation of the document (required when it holds several)', { extensions: { code: 'BAD_USER_INPUT' } });
  }
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
