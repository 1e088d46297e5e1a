import path from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { MikroORM, type Options } from '@mikro-orm/core';
import { createPool, type Pool, type PoolConnection } from 'mysql2';
import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { MySqlDriver } from '@mikro-orm/mysql';
import type { EntityManager, Knex } from '@mikro-orm/knex';
import { Migrator } from '@mikro-orm/migrations';
import type { DatabaseConfig } from '../config';
import type { PoolState } from '../metrics/metrics';
import { entities } from './entities';

/** The project root: the nearest folder above this file with a package.json (from src/ or dist/src/ alike). */
function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** The folder of generated migrations for a dialect (plain JS, so they load without a compile step). */
export const migrationsPath = (dialect: DatabaseConfig['dialect']): string => path.join(projectRoot(), 'migrations', dialect);

/** MikroORM options for a database; shared by the server and the migration scripts. */
export function ormOptions(db: DatabaseConfig): Options {
  const common = {
    entities,
    extensions: [Migrator],
    allowGlobalContext: false,
    discovery: { warnWhenNoEntities: true },
    migrations: {
      path: migrationsPath(db.dialect),
      emit: 'js' as const,
      // MySQL commits DDL implicitly, so wrapping its migrations in a transaction only earns a warning.
      transactional: db.dialect === 'sqlite',
      silent: true,
      allOrNothing: db.dialect === 'sqlite',
      snapshot: false,
      disableForeignKeys: false,
    },
  };
  if (db.dialect === 'sqlite') {
    return { ...common, driver: BetterSqliteDriver, dbName: db.file } as Options;
  }
  return {
    ...common,
    driver: MySqlDriver,
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    dbName: db.database,
    pool: { min: 0, max: 16 },
    // Rows come back as plain numbers for ids and epoch times; both fit in 2^53.
    driverOptions: { connection: { supportBigNumbers: true, bigNumberStrings: false, timezone: 'Z' } },
  } as Options;
}

/**
 * Connections of the hot pool on MySQL (see {@link Database.script}): enough for the store's concurrent group
 * commits and the send path's concurrent lookups, few enough that a node stays a small share of the server's
 * connection limit beside the ORM's pool of 16.
 */
export const HOT_POOL_CONNECTIONS = 8;

/**
 * The storage handle the services share: the ORM for ordinary work, knex for statements that must not pay for a
 * unit of work, and plain SQL for the send path, where building queries and round trips show in the profile.
 */
export interface Database {
  readonly dialect: DatabaseConfig['dialect'];
  readonly orm: MikroORM;
  /** A fresh EntityManager for one unit of work. */
  em(): EntityManager;
  readonly knex: Knex;
  /**
   * The rows of one plain SQL statement with `?` placeholders, no query builder on the way: on MySQL through the
   * hot pool, on SQLite through knex's connection.
   */
  rows<T = Record<string, unknown>>(sql: string, params: readonly unknown[]): Promise<T[]>;
  /**
   * MySQL only (undefined on SQLite): runs `sql`, several statements that open a transaction and commit it, in
   * one round trip on a connection of the hot pool, and resolves with each statement's result in order. When a
   * statement fails the server runs none after it; the transaction is then rolled back on that same connection
   * before it returns to the pool (a connection that cannot roll back is closed), and the promise rejects with
   * the statement's error.
   */
  readonly script?: (sql: string, params: readonly unknown[]) => Promise<unknown[]>;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  /** The connection pools' state now (for metrics): the ORM's, and on MySQL the hot pool. */
  pools(): PoolState[];
  close(): Promise<void>;
}

/** Opens the database and brings its schema up to date with the migrations. */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.dialect === 'sqlite' && config.file !== ':memory:') mkdirSync(path.dirname(config.file), { recursive: true });
  const orm = await MikroORM.init(ormOptions(config));
  const em = orm.em as unknown as EntityManager;
  const knex = em.getKnex();
  if (config.dialect === 'sqlite') {
    // WAL lets readers proceed during a write; NORMAL sync is durable across process crashes.
    await knex.raw('PRAGMA journal_mode = WAL');
    await knex.raw('PRAGMA synchronous = NORMAL');
    await knex.raw('PRAGMA busy_timeout = 5000');
  }
  await orm.getMigrator().up();
  const hot = config.dialect === 'mysql' ? hotPool(config) : undefined;
  return {
    dialect: config.dialect,
    orm,
    em: () => em.fork(),
    knex,
    rows: hot
      ? <T>(sql: string, params: readonly unknown[]) => query(hot, sql, params) as Promise<T[]>
      : async <T>(sql: string, params: readonly unknown[]) => (await knex.raw(sql, params as readonly Knex.RawBinding[])) as T[],
    script: hot && ((sql, params) => script(hot, sql, params)),
    async ping() {
      try {
        await knex.raw('select 1');
        return true;
      } catch {
        return false;
      }
    },
    pools: () => [...ormPool(knex), ...(hot ? [hotPoolState(hot)] : [])],
    async close() {
      if (hot) await new Promise<void>((resolve) => hot.end(() => resolve()));
      await orm.close(true);
    },
  };
}

/**
 * The hot pool: mysql2's callback API (its promise wrapper captures a stack per query), the same server, account
 * and number handling as the ORM's connections, and several statements per query for {@link Database.script}.
 */
function hotPool(config: Extract<DatabaseConfig, { dialect: 'mysql' }>): Pool {
  return createPool({
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    database: config.database,
    connectionLimit: HOT_POOL_CONNECTIONS,
    multipleStatements: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
    timezone: 'Z',
  });
}

/** knex's tarn pool, as it is at hand on its client (typed by neither). */
interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

function ormPool(knex: Knex): PoolState[] {
  const pool = (knex.client as { pool?: TarnPool }).pool;
  return pool ? [{ pool: 'orm', used: pool.numUsed(), free: pool.numFree(), pending: pool.numPendingAcquires() }] : [];
}

/** mysql2 exposes no counts of its pool: they are read from its queues (NaN if a release renames them). */
function hotPoolState(pool: Pool): PoolState {
  const queues = pool as unknown as Record<'_allConnections' | '_freeConnections' | '_connectionQueue', { length: number } | undefined>;
  const all = queues._allConnections?.length ?? Number.NaN;
  const free = queues._freeConnections?.length ?? Number.NaN;
  return { pool: 'hot', used: all - free, free, pending: queues._connectionQueue?.length ?? Number.NaN };
}

function query(on: Pool | PoolConnection, sql: string, params: readonly unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => on.query(sql, params as unknown[], (error, result) => (error ? reject(error) : resolve(result))));
}

async function script(pool: Pool, sql: string, params: readonly unknown[]): Promise<unknown[]> {
  const connection = await new Promise<PoolConnection>((resolve, reject) => pool.getConnection((error, c) => (error ? reject(error) : resolve(c))));
  let results: unknown;
  try {
    results = await query(connection, sql, params);
  } catch (error) {
    try {
      await query(connection, 'ROLLBACK', []);
      connection.release();
    } catch {
      connection.destroy();
    }
    throw error;
  }
  connection.release();
  return results as unknown[];
}
