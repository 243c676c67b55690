import crypto from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { connectors } from '../src/connectors/index.js';
import type { HubContext } from '../src/core/context.js';
import { migrateDatabase, openDatabase, startEmbeddedPostgres, type Database, type EmbeddedServer } from '../src/db/index.js';
import { createLogger } from '../src/log.js';

// What the benchmarks share: a database of their own, a hub context on it, memory sampling.

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface MemorySampler {
  stop: () => { peakRssMb: number; peakHeapMb: number; startRssMb: number };
}

/** Samples process.memoryUsage() every 50 ms (RSS of this Node process only, not PostgreSQL's). */
export function sampleMemory(intervalMs = 50): MemorySampler {
  const start = process.memoryUsage();
  let peakRss = start.rss;
  let peakHeap = start.heapUsed;
  const sample = () => {
    const usage = process.memoryUsage();
    if (usage.rss > peakRss) peakRss = usage.rss;
    if (usage.heapUsed > peakHeap) peakHeap = usage.heapUsed;
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return { peakRssMb: peakRss / 2 ** 20, peakHeapMb: peakHeap / 2 ** 20, startRssMb: start.rss / 2 ** 20 };
    },
  };
}

export interface BenchHub {
  context: HubContext;
  database: Database;
  where: string;
  close: () => Promise<void>;
}

/** A migrated database (DATABASE_URL's server, or an embedded cluster in tmp) and a hub context on it. */
export async function benchHub(tmp: string): Promise<BenchHub> {
  const name = `hub_bench_${crypto.randomBytes(4).toString('hex')}`;
  const log = createLogger('warn');
  let embedded: EmbeddedServer | undefined;
  let adminUrl: string;
  let where: string;
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
    where = `DATABASE_URL server, database ${name}`;
  } else {
    const port = await freePort();
    embedded = await startEmbeddedPostgres({ dataDir: path.join(tmp, 'postgres'), port, log });
    adminUrl = embedded.url('postgres');
    where = `embedded PostgreSQL on 127.0.0.1:${port} (data in ${tmp})`;
  }
  const admin = openDatabase(adminUrl, { max: 1 });
  await admin.sql.unsafe(`create database "${name}"`);
  await admin.close();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = openDatabase(url.toString());
  await migrateDatabase(database);
  const masterKey = crypto.randomBytes(32);
  const config = loadConfig({ DATABASE_URL: url.toString(), HUB_DATA_DIR: tmp, HUB_MASTER_KEY: masterKey.toString('base64'), HUB_LOG_LEVEL: 'warn' });
  const context: HubContext = { sql: database.sql, config, log, masterKey, connectors };
  return {
    context,
    database,
    where,
    close: async () => {
      await database.close();
      if (embedded) await embedded.stop();
      else {
        const cleaner = openDatabase(adminUrl, { max: 1 });
        await cleaner.sql.unsafe(`drop database if exists "${name}" with (force)`);
        await cleaner.close();
      }
    },
  };
}

/** A seeded PRNG (mulberry32): the same seed gives the same data. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
