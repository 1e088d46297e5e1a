import { GraphQLError, Kind, type FieldNode, type OperationDefinitionNode, type ValidationRule } from 'graphql';
import { PAGE_MAX } from '../common/paging';

/** Whether a field's `first` argument, as written, surely names a page size once variables are known. */
function sized(field: FieldNode, operation: OperationDefinitionNode): boolean {
  const first = field.arguments?.find((arg) => arg.name.value === 'first')?.value;
  if (!first) return false;
  if (first.kind === Kind.INT) return Number(first.value) >= 1 && Number(first.value) <= PAGE_MAX;
  if (first.kind !== Kind.VARIABLE) return false;
  const variable = operation.variableDefinitions?.find((v) => v.variable.name.value === first.name.value);
  // A nullable variable may arrive as null, which would ask for the whole list; an unknown one is another rule's error.
  return !variable || variable.type.kind === Kind.NON_NULL_TYPE;
}

/**
 * Refuses, before anything runs, a mutation or subscription that selects a paged list below its root field (as
 * `Group.members`) without a page size: unpaged, such a list is refused when it is long (see `common/paging.ts`),
 * and in a result that cannot be null this would wipe the answer of a mutation that has already stored its change,
 * or of every event of a large group. Queries keep the unpaged answer, which a client may simply ask again.
 * A paged list is a field with both `first` and `after` arguments; `first` must be a literal from 1 to
 * {@link PAGE_MAX} or a variable of type `Int!`.
 */
export const pagedResultsRule: ValidationRule = (context) => {
  /** Unsized paged fields by the operation or fragment they are written in. */
  const found = new Map<string, FieldNode[]>();
  let where = '';
  const offenders = (op: OperationDefinitionNode): FieldNode[] => [
    ...(found.get(`operation:${op.name?.value ?? ''}`) ?? []),
    ...context.getRecursivelyReferencedFragments(op).flatMap((fragment) => found.get(`fragment:${fragment.name.value}`) ?? []),
  ];
  return {
    OperationDefinition(node) {
      where = `operation:${node.name?.value ?? ''}`;
    },
    FragmentDefinition(node) {
      where = `fragment:${node.name.value}`;
    },
    Field(node) {
      const args = context.getFieldDef()?.args;
      if (!args?.some((arg) => arg.name === 'first') || !args.some((arg) => arg.name === 'after')) return;
      const list = found.get(where) ?? [];
      list.push(node);
      found.set(where, list);
    },
    Document: {
      leave(document) {
        for (const op of document.definitions) {
          if (op.kind !== Kind.OPERATION_DEFINITION || op.operation === 'query') continue;
          const field = offenders(op).find((node) => !sized(node, op));
          if (!field) continue;
          const name = field.name.value;
          context.reportError(
            new GraphQLError(`${name}: give first (1-${PAGE_MAX}, a literal or an Int! variable) in a ${op.operation}, whose result is never cut short`, {
              nodes: [field],
              extensions: { code: 'BAD_USER_INPUT', field: name },
            }),
          );
        }
      },
    },
  };
};
