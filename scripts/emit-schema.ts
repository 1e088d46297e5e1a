/** Writes schema/schema.graphql from the resolvers (npm run schema). CI fails when the committed file is stale. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { printSchema } from 'graphql';
import { createSchema } from '../src/schema';

/** The file's header: what the schema cannot say about the graphql-ws socket (same list as the README's). */
const HEADER = `# Generated from the resolvers by \`npm run schema\`; do not edit.
#
# graphql-ws close codes (the socket is bound to the access token and session of its connection_init):
#   4401  the access token expired: refresh it, reconnect, catch up with syncMessages
#   4403  bad or missing token, or the session ended (logout, same-terminal login, password change,
#         refresh-token reuse); a SessionEndedEvent with the reason comes first when it can. An operation
#         sent on a socket whose session has ended gets UNAUTHENTICATED and the socket closes with 4403.
#   1013  try again later: the connection could not be recorded for routing, or the client fell too far
#         behind; reconnect (with backoff) and catch up
#   1012  the node is shutting down: reconnect, to another node
#   4400, 4408, 4409, 4429, 4500  graphql-ws protocol errors (bad message, no connection_init in time,
#         duplicate operation id, a second connection_init, internal error); graphql-ws also closes with
#         4401 a socket that subscribes before connection_init was acknowledged
# At most WS_MAX_SUBSCRIPTIONS (default 10) subscriptions run at once per socket; the next gets FORBIDDEN.
`;

createSchema().then((schema) => {
  const file = path.resolve(__dirname, '../../schema/schema.graphql');
  writeFileSync(file, `${HEADER}\n${printSchema(schema)}\n`);
  console.log(`wrote ${file}`);
});
