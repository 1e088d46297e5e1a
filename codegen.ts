import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * GraphQL Code Generator: the operations under client/operations, checked against the committed schema, become
 * - client/generated/graphql.ts: types and a TypedDocumentNode per operation, framework-free (the SDK and any
 *   GraphQL client use it);
 * - client/generated/hooks.ts: urql React hooks (`useContactsQuery`, `useSendMessageMutation`, …) over those
 *   same documents, so React is needed only by whoever imports the hooks.
 * `npm run codegen` writes both; CI runs `npm run codegen -- --check`, which fails when either is stale or an
 * operation no longer validates against schema/schema.graphql.
 */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['client/operations/**/*.graphql'],
  generates: {
    'client/generated/graphql.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        strictScalars: true,
        scalars: { DateTime: 'string' },
      },
    },
    'client/generated/hooks.ts': {
      plugins: ['typescript-urql'],
      config: {
        documentMode: 'external',
        importDocumentNodeExternallyFrom: './graphql',
        importOperationTypesFrom: 'Operations',
        useTypeImports: true,
        withHooks: true,
      },
    },
  },
};

export default config;
