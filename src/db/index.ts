import postgres from 'postgres';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { Logger as WorkerLogger, runMigrations as runWorkerMigrations } from 'graphile-worker';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export * as schema from './schema/index.js';
export { startEmbeddedPostgres, type EmbeddedServer } from './embedded.js';

export type Sql = postgres.Sql<{}>;
export interface Database {
  url: string;
  sql: Sql;
  close: () => Promise<void>;
}

export const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

export function openDatabase(url: string, options: { max?: number } = {}): Database {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: 'hub' },
  });
  return { url, sql, close: () => sql.end({ timeout: 5 }) };
}

const MIGRATION_LOCK = 7_318_042;

/** Applies our drizzle migrations and graphile-worker's, one process at a time. */
export async function migrateDatabase(database: Database): Promise<void> {
  const lock = await database.sql.reserve();
  try {
    await lock`select pg_advisory_lock(${MIGRATION_LOCK})`;
    // drizzle() rewires its client's type parsers (dates and json stay strings), so it gets a client of its own.
    const migrationClient = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      await migrate(drizzle(migrationClient), { migrationsFolder });
    } finally {
      await migrationClient.end();
    }
    await runWorkerMigrations({ connectionString: database.url, logger: silentWorkerLogger });
    await lock`select pg_advisory_unlock(${MIGRATION_LOCK})`;
  } finally {
    lock.release();
  }
}

/** True when every migration in migrations/ has been applied to this database. */
export async function migrationsAreCurrent(sql: Sql): Promise<boolean> {
  const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
  const [row] = await sql`select count(*)::int as applied from drizzle.__drizzle_migrations`.catch(() => [{ applied: -1 }]);
  return row.applied === journal.entries.length;
}

export const silentWorkerLogger = new WorkerLogger(() => () => {});
