import path from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { MikroORM, type Options } from '@mikro-orm/core';
import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { MySqlDriver } from '@mikro-orm/mysql';
import type { EntityManager, Knex } from '@mikro-orm/knex';
import { Migrator } from '@mikro-orm/migrations';
import type { DatabaseConfig } from '../config';
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
 * The storage handle the services share: the ORM for ordinary work, and knex for the few hot statements
 * that must not pay for a unit of work.
 */
export interface Database {
  readonly dialect: DatabaseConfig['dialect'];
  readonly orm: MikroORM;
  /** A fresh EntityManager for one unit of work. */
  em(): EntityManager;
  readonly knex: Knex;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
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
  return {
    dialect: config.dialect,
    orm,
    em: () => em.fork(),
    knex,
    async ping() {
      try {
        await knex.raw('select 1');
        return true;
      } catch {
        return false;
      }
    },
    close: () => orm.close(true),
  };
}
