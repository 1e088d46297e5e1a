/** Writes schema/schema.graphql from the resolvers (npm run schema). CI fails when the committed file is stale. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { printSchema } from 'graphql';
import { createSchema } from '../src/schema';

createSchema().then((schema) => {
  const file = path.resolve(__dirname, '../../schema/schema.graphql');
  writeFileSync(file, `# Generated from the resolvers by \`npm run schema\`; do not edit.\n\n${printSchema(schema)}\n`);
  console.log(`wrote ${file}`);
});
