/**
 * GraphQL Code Generator configuration for typed clients (`client/`). The generated hooks arrive with the
 * clients issue; the schema source is already the committed, CI-checked schema/schema.graphql.
 */
const config = {
  schema: 'schema/schema.graphql',
  documents: ['client/**/*.graphql'],
  generates: {
    'client/generated/': { preset: 'client' },
  },
};

export default config;
