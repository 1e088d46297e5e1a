#!/usr/bin/env node
// How long knex (MikroORM 6's query builder) and kysely (MikroORM 7's) take to build the statements of the
// send path, on the runtime that runs this script: one of the inputs of docs/runtime.md. Neither kysely nor
// a second knex is a dependency of the project, so the script loads them from the current directory:
//   cd "$(mktemp -d)" && npm i --silent kysely@0.28.17 knex@3.2.10 mysql2@3.20.0 && node <repo>/bench/query-builders.mjs
import { createRequire } from 'node:module';

const require = createRequire(`${process.cwd()}/`);
const knexFactory = require('knex');
const { Kysely, DummyDriver, MysqlAdapter, MysqlIntrospector, MysqlQueryCompiler } = require('kysely');

const knex = knexFactory({ client: 'mysql2' });
const kysely = new Kysely({
  dialect: {
    createAdapter: () => new MysqlAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new MysqlIntrospector(db),
    createQueryCompiler: () => new MysqlQueryCompiler(),
  },
});
const rows = Array.from({ length: 20 }, (_, i) => ({
  conversation_id: i,
  seq: i + 1,
  sender_id: 7,
  type: 'TEXT',
  content: `hello ${i}`,
  client_message_id: `c${i}`,
  status: 'SENT',
  created_at: Date.now(),
}));
const ids = rows.map((r) => r.conversation_id);
/** name -> [knex, kysely]: the same statement built (not run) by each. */
const cases = {
  'one message by sender and client id': [
    () => knex('messages').first('*').where({ sender_id: 7, client_message_id: 'abc' }).toSQL(),
    () => kysely.selectFrom('messages').selectAll().where('sender_id', '=', 7).where('client_message_id', '=', 'abc').limit(1).compile(),
  ],
  'friendships of 20 users (where in)': [
    () => knex('friendships').select('user_id', 'friend_id', 'conversation_id').whereIn('user_id', ids).toSQL(),
    () => kysely.selectFrom('friendships').select(['user_id', 'friend_id', 'conversation_id']).where('user_id', 'in', ids).compile(),
  ],
  'insert of 20 messages in one statement': [
    () => knex('messages').insert(rows).toSQL(),
    () => kysely.insertInto('messages').values(rows).compile(),
  ],
};

const N = 20_000;
/** Median of three runs of N builds, in µs per build. */
function microseconds(build) {
  const runs = [0, 1, 2].map(() => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i++) build();
    return Number(process.hrtime.bigint() - start) / N / 1000;
  });
  return runs.sort((a, b) => a - b)[1];
}

console.log(`Node ${process.version}, ${N} builds per figure, median of 3`);
console.log('| statement | knex µs | kysely µs | kysely / knex |');
console.log('| --- | --- | --- | --- |');
for (const [name, [viaKnex, viaKysely]] of Object.entries(cases)) {
  for (let i = 0; i < 2000; i++) viaKnex(), viaKysely(); // warm up the JIT for both
  const k = microseconds(viaKnex);
  const y = microseconds(viaKysely);
  console.log(`| ${name} | ${k.toFixed(1)} | ${y.toFixed(1)} | ${(y / k).toFixed(2)} |`);
}
await knex.destroy();
