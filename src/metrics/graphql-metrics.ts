import { Kind, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import type { Metrics } from './metrics';

/** The `field` label of errors raised before an operation was known (unparsable or invalid documents). */
const NO_FIELD = '(document)';

/** What the counters read of an error as it is answered: its code, and the response key it belongs to. */
interface AnsweredError {
  readonly path?: readonly (string | number)[];
  readonly extensions?: Readonly<Record<string, unknown>>;
}

/**
 * Response key -> schema field name of an operation's root fields, fragments followed. Schema names, not the
 * client's aliases or operation names, label the series: a client cannot make up new ones.
 */
function rootFields(document: DocumentNode, selectionSet: SelectionSetNode, into = new Map<string, string>()): Map<string, string> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      into.set(selection.alias?.value ?? selection.name.value, selection.name.value);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      rootFields(document, selection.selectionSet, into);
    } else {
      const name = selection.name.value;
      const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === name);
      if (fragment?.kind === Kind.FRAGMENT_DEFINITION) rootFields(document, fragment.selectionSet, into);
    }
  }
  return into;
}

/**
 * Counts one GraphQL operation about to be answered, and the errors of its answer: a request per root field
 * (`im_graphql_requests_total`), an error per answered error under the root field its path starts at
 * (`im_graphql_errors_total`). Without an operation (the document did not parse or validate) only its errors count.
 */
export function countOperation(
  metrics: Metrics,
  document: DocumentNode | undefined,
  operation: OperationDefinitionNode | null | undefined,
  errors: readonly AnsweredError[] | undefined,
): void {
  const fields = document && operation ? rootFields(document, operation.selectionSet) : undefined;
  const type = operation?.operation ?? NO_FIELD;
  if (fields) for (const field of new Set(fields.values())) metrics.graphqlRequests.inc({ field, type });
  countErrors(metrics, fields, type, errors);
}

/** Counts the errors of a later answer of an operation already counted (an event of a subscription). */
export function countEventErrors(metrics: Metrics, document: DocumentNode, operation: OperationDefinitionNode | null | undefined, errors: readonly AnsweredError[]): void {
  countErrors(metrics, operation ? rootFields(document, operation.selectionSet) : undefined, operation?.operation ?? NO_FIELD, errors);
}

function countErrors(metrics: Metrics, fields: Map<string, string> | undefined, type: string, errors: readonly AnsweredError[] | undefined): void {
  for (const error of errors ?? []) {
    const key = error.path?.[0];
    const field = (typeof key === 'string' && fields?.get(key)) || NO_FIELD;
    const code = typeof error.extensions?.code === 'string' ? error.extensions.code : 'INTERNAL_SERVER_ERROR';
    metrics.graphqlErrors.inc({ field, type, code });
  }
}
