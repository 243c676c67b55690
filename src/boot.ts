import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { createApp } from './api/app.js';
import { ConfigError, loadConfig, type HubConfig } from './config.js';
import { connectors } from './connectors/index.js';
import type { HubContext } from './core/context.js';
import { migrateDatabase, openDatabase, startEmbeddedPostgres, type Database, type EmbeddedServer } from './db/index.js';
import { createLogger, type Logger } from './log.js';

// The composition root: config → database (embedded or not) → migrations → context.

export interface Hub {
  context: HubContext;
  database: Database;
  close: () => Promise<void>;
}

export async function bootHub(options: { config?: HubConfig; log?: Logger; migrate?: boolean } = {}): Promise<Hub> {
  const config = options.config ?? loadConfig();
  const log = options.log ?? createLogger(config.HUB_LOG_LEVEL);
  let embedded: EmbeddedServer | undefined;
  let url = config.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.HUB_PG_PORT, log });
    url = await ensureDatabase(embedded, 'hub');
    log.info({ dataDir: config.dataDir, port: config.HUB_PG_PORT }, 'embedded PostgreSQL is running');
  }
  const masterKey = resolveMasterKey(config, Boolean(embedded), log);
  const database = openDatabase(url);
  try {
    if (options.migrate !== false) await migrateDatabase(database);
  } catch (error) {
    await database.close();
    await embedded?.stop();
    throw error;
  }
  const context: HubContext = { sql: database.sql, config, log, masterKey, connectors };
  return {
    context,
    database,
    close: async () => {
      await database.close();
      await embedded?.stop();
    },
  };
}

async function ensureDatabase(embedded: EmbeddedServer, name: string): Promise<string> {
  const admin = openDatabase(embedded.url('postgres'), { max: 1 });
  try {
    const [exists] = await admin.sql`select 1 from pg_database where datname = ${name}`;
    if (!exists) await admin.sql.unsafe(`create database "${name}"`);
  } finally {
    await admin.close();
  }
  return embedded.url(name);
}

/** HUB_MASTER_KEY, or (embedded default only) a key generated once into the data dir. */
function resolveMasterKey(config: HubConfig, embedded: boolean, log: Logger): Buffer {
  if (config.HUB_MASTER_KEY) return Buffer.from(config.HUB_MASTER_KEY, 'base64');
  if (!embedded) throw new ConfigError('HUB_MASTER_KEY is required when DATABASE_URL is set (generate one with: openssl rand -base64 32).');
  const keyFile = path.join(config.dataDir, 'master.key');
  if (!fs.existsSync(keyFile)) {
    fs.writeFileSync(keyFile, crypto.randomBytes(32).toString('base64'), { mode: 0o600 });
    log.warn({ keyFile }, 'HUB_MASTER_KEY is not set: generated one in the data dir. Back it up: without it stored credentials cannot be read.');
  }
  return Buffer.from(fs.readFileSync(keyFile, 'utf8').trim(), 'base64');
}

export function startApi(context: HubContext, port: number, host: string): Promise<ServerType> {
  const app = createApp(context);
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(server));
  });
}
