/**
 * Generates and checks the migrations of both dialects from the entities.
 *   node dist/scripts/migrations.js create [name]   writes a migration for each dialect when the entities changed
 *   node dist/scripts/migrations.js check           fails when the migrations do not build the entities' schema
 *
 * The check builds two scratch databases per dialect, one from the migrations and one straight from the entities,
 * and compares what the database itself reports of both (columns, types, nullability, defaults, indexes). Comparing
 * live catalogues avoids the ORM's own diff, whose driver quirks report changes where there are none.
 * MySQL scratch databases live on MIGRATIONS_MYSQL_URL (default mysql://root@127.0.0.1:3306).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { parseDatabaseUrl, type DatabaseConfig } from '../src/config';
import { ormOptions } from '../src/db/database';

let counter = 0;
function scratch(dialect: DatabaseConfig['dialect']): DatabaseConfig {
  const name = `im_migrate_${process.pid}_${Date.now()}_${counter++}`;
  if (dialect === 'sqlite') return { dialect, file: path.join(mkdtempSync(path.join(os.tmpdir(), 'im-migrate-')), `${name}.sqlite`) };
  const url = new URL(process.env.MIGRATIONS_MYSQL_URL || 'mysql://root@127.0.0.1:3306/unused');
  url.pathname = `/${name}`;
  return parseDatabaseUrl(url.toString());
}

async function withDatabase<T>(config: DatabaseConfig, work: (orm: MikroORM) => Promise<T>): Promise<T> {
  const orm = await MikroORM.init({ ...ormOptions(config), ensureDatabase: true, debug: false });
  try {
    return await work(orm);
  } finally {
    if (config.dialect === 'mysql') await orm.getSchemaGenerator().dropDatabase(config.database);
    await orm.close(true);
    if (config.dialect === 'sqlite') rmSync(path.dirname(config.file), { recursive: true, force: true });
  }
}

/** A dialect's own account of every table, column and index, as sorted lines. */
async function catalogue(orm: MikroORM, config: DatabaseConfig): Promise<string[]> {
  const knex = (orm.em as unknown as EntityManager).getKnex();
  const lines: string[] = [];
  if (config.dialect === 'mysql') {
    const [columns] = await knex.raw(
      `select table_name t, column_name c, column_type ty, is_nullable n, column_default d, extra x
         from information_schema.columns where table_schema = ? and table_name <> 'mikro_orm_migrations'`,
      [config.database],
    );
    for (const r of columns) lines.push(`column ${r.t}.${r.c} ${r.ty} null=${r.n} default=${r.d} ${r.x}`);
    const [indexes] = await knex.raw(
      `select table_name t, index_name i, non_unique u, group_concat(column_name order by seq_in_index) cols
         from information_schema.statistics where table_schema = ? and table_name <> 'mikro_orm_migrations'
        group by table_name, index_name, non_unique`,
      [config.database],
    );
    for (const r of indexes) lines.push(`index ${r.t}.${r.i} unique=${r.u === 0} (${r.cols})`);
  } else {
    const tables = await knex.raw(`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name <> 'mikro_orm_migrations'`);
    for (const { name } of tables) {
      for (const c of await knex.raw(`pragma table_info(\`${name}\`)`)) {
        lines.push(`column ${name}.${c.name} ${c.type} notnull=${c.notnull} default=${c.dflt_value} pk=${c.pk}`);
      }
      for (const i of await knex.raw(`pragma index_list(\`${name}\`)`)) {
        const cols = (await knex.raw(`pragma index_info(\`${i.name}\`)`)).map((c: { name: string }) => c.name).join(',');
        lines.push(`index ${name}.${i.name} unique=${i.unique} (${cols})`);
      }
      for (const f of await knex.raw(`pragma foreign_key_list(\`${name}\`)`)) {
        lines.push(`fk ${name}.${f.from} -> ${f.table}.${f.to} delete=${f.on_delete}`);
      }
    }
  }
  return lines.sort();
}

async function check(dialect: DatabaseConfig['dialect']): Promise<boolean> {
  const fromMigrations = scratch(dialect);
  const migrated = await withDatabase(fromMigrations, async (orm) => {
    await orm.getMigrator().up();
    return catalogue(orm, fromMigrations);
  });
  const fromEntities = scratch(dialect);
  const created = await withDatabase(fromEntities, async (orm) => {
    await orm.getSchemaGenerator().createSchema();
    return catalogue(orm, fromEntities);
  });
  const missing = created.filter((l) => !migrated.includes(l));
  const extra = migrated.filter((l) => !created.includes(l));
  if (!missing.length && !extra.length) {
    console.log(`${dialect}: the migrations build exactly the entities' schema (${created.length} columns and indexes)`);
    return true;
  }
  console.error(`${dialect}: the migrations and the entities disagree; run npm run migration:create`);
  for (const l of missing) console.error(`  entities have, migrations lack: ${l}`);
  for (const l of extra) console.error(`  migrations have, entities lack: ${l}`);
  return false;
}

async function create(dialect: DatabaseConfig['dialect'], name?: string): Promise<void> {
  const config = scratch(dialect);
  await withDatabase(config, async (orm) => {
    const migrator = orm.getMigrator();
    await migrator.up();
    const result = await migrator.createMigration(undefined, false, false, name);
    console.log(result.fileName ? `${dialect}: wrote ${result.fileName}` : `${dialect}: no changes`);
  });
}

async function main(): Promise<number> {
  const [command, name] = process.argv.slice(2);
  const dialects = ['sqlite', 'mysql'] as const;
  if (command === 'create') {
    for (const d of dialects) await create(d, name);
    return 0;
  }
  if (command === 'check') {
    let ok = true;
    for (const d of dialects) ok = (await check(d)) && ok;
    return ok ? 0 : 1;
  }
  console.error('usage: migrations.js create [name] | check');
  return 2;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
