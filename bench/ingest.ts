// Ingest benchmark: a generated CSV through the whole sync (parse → source_records → canonical)
// against a baseline in the same run: a raw COPY of the same rows into a plain table.
//
//   npm run bench -- ingest [--rows 200000] [--batch N]
//
// Targets: hub/COPY ratio ≥ 0.35, and peak RSS of this process under 300 MB whatever the
// file size (the sync streams). PostgreSQL runs in its own process and is not counted.
// Uses DATABASE_URL when set (a fresh database is created there and dropped after);
// otherwise starts an embedded PostgreSQL in a temp dir on a free port.

import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse';
import { loadConfig } from '../src/config.js';
import { connectors } from '../src/connectors/index.js';
import { createWorkspace } from '../src/core/auth/index.js';
import { createConnection } from '../src/core/connections/index.js';
import type { HubContext } from '../src/core/context.js';
import { registerLocalFile } from '../src/core/files/index.js';
import { requestSync, runSync, type SyncRunRow } from '../src/core/ingest/index.js';
import { migrateDatabase, openDatabase, startEmbeddedPostgres, type Database, type EmbeddedServer, type Sql } from '../src/db/index.js';
import { createLogger } from '../src/log.js';

const TARGET_RATIO = 0.35;
const TARGET_RSS_MB = 300;
const HEADERS = ['ID', 'Name', 'Email', 'Phone', 'Company', 'Amount', 'Status', 'Date'] as const;

// ---------------------------------------------------------------------------------------------
// Data: deterministic (seeded), realistic, about a third of the names in Cyrillic.

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LATIN_FIRST = ['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'William', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Chris', 'Karen', 'Daniel', 'Nancy', 'Matthew', 'Lisa', 'Anthony', 'Betty', 'Mark', 'Sandra', 'Paul', 'Ashley', 'Zoë', 'José'];
const LATIN_LAST = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', "O'Brien", 'Thompson', 'White', 'Harris', 'Clark', 'Lewis', 'Walker', 'Müller'];
// [Cyrillic, transliteration for the email]
const CYRILLIC_FIRST: [string, string][] = [['Александр', 'aleksandr'], ['Мария', 'maria'], ['Дмитрий', 'dmitry'], ['Анна', 'anna'], ['Сергей', 'sergey'], ['Елена', 'elena'], ['Андрей', 'andrey'], ['Ольга', 'olga'], ['Алексей', 'aleksey'], ['Наталья', 'natalya'], ['Иван', 'ivan'], ['Татьяна', 'tatyana'], ['Михаил', 'mikhail'], ['Юлия', 'yulia'], ['Артём', 'artyom'], ['Ксения', 'ksenia']];
const CYRILLIC_LAST: [string, string][] = [['Иванов', 'ivanov'], ['Смирнов', 'smirnov'], ['Кузнецов', 'kuznetsov'], ['Попов', 'popov'], ['Васильев', 'vasilyev'], ['Петров', 'petrov'], ['Соколов', 'sokolov'], ['Михайлов', 'mikhaylov'], ['Новиков', 'novikov'], ['Фёдоров', 'fedorov'], ['Морозов', 'morozov'], ['Волков', 'volkov'], ['Алексеев', 'alekseev'], ['Лебедев', 'lebedev']];
const LATIN_COMPANIES = ['Acme Corp', 'Globex LLC', 'Initech', 'Umbrella Services', 'Smith, Jones & Co', 'Blue Sky Plumbing', 'Northwind Traders', 'Contoso Ltd', 'Brightside Dental', 'Green Leaf Landscaping', 'The "Corner" Bakery', 'Hooli', ''];
const CYRILLIC_COMPANIES = ['ООО «Ромашка»', 'ИП Петров', 'АО «Вектор»', 'ООО «СтройМонтаж»', 'ООО «Чистый дом», клининг', 'Салон «Элегант»', 'ТД «Северный»', 'ООО «Техсервис»', ''];
const DOMAINS = ['gmail.com', 'yahoo.com', 'outlook.com', 'example.com', 'mail.ru', 'yandex.ru', 'company.io'];
const STATUSES = ['open', 'won', 'lost', 'completed', 'new', 'paid', 'в работе', 'оплачено', 'отказ', 'выполнено'];

const pick = <T>(random: () => number, list: readonly T[]): T => list[Math.floor(random() * list.length)];
const digits = (random: () => number, count: number) => Array.from({ length: count }, () => Math.floor(random() * 10)).join('');
const pad2 = (value: number) => String(value).padStart(2, '0');

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

interface GeneratedFile {
  path: string;
  bytes: number;
  withCompany: number;
}

/** Streams `rows` rows to `filePath` (never the whole file in memory). */
async function generateCsv(filePath: string, rows: number, seed = 42): Promise<GeneratedFile> {
  const random = prng(seed);
  const out = fs.createWriteStream(filePath, { encoding: 'utf8' });
  let withCompany = 0;
  let chunk = `${HEADERS.join(',')}\n`;
  for (let i = 1; i <= rows; i++) {
    const cyrillic = random() < 0.35;
    let name: string;
    let local: string;
    let phone: string;
    let company: string;
    if (cyrillic) {
      const [first, firstLatin] = pick(random, CYRILLIC_FIRST);
      const [last, lastLatin] = pick(random, CYRILLIC_LAST);
      const female = /[аяю]$/.test(first) || first === 'Юлия';
      name = random() < 0.2 ? `${last}${female ? 'а' : ''} ${first}` : `${first} ${last}${female ? 'а' : ''}`;
      local = `${firstLatin}.${lastLatin}`;
      phone = random() < 0.5 ? `+7 (9${digits(random, 2)}) ${digits(random, 3)}-${digits(random, 2)}-${digits(random, 2)}` : `8 9${digits(random, 2)} ${digits(random, 3)} ${digits(random, 2)} ${digits(random, 2)}`;
      company = pick(random, CYRILLIC_COMPANIES);
    } else {
      const first = pick(random, LATIN_FIRST);
      const last = pick(random, LATIN_LAST);
      name = `${first} ${last}`;
      local = `${first}.${last}`.normalize('NFD').replace(/[^A-Za-z.]/g, '').toLowerCase();
      phone = random() < 0.6 ? `+1 (${digits(random, 3)}) ${digits(random, 3)}-${digits(random, 4)}` : `+44 20 ${digits(random, 4)} ${digits(random, 4)}`;
      company = pick(random, LATIN_COMPANIES);
    }
    if (random() < 0.05) phone = '';
    let email = `${local}${i}@${pick(random, DOMAINS)}`;
    if (random() < 0.04) email = `${email}; ${local}.work${i}@${pick(random, DOMAINS)}`;
    if (company) withCompany++;

    const major = Math.floor(random() * (random() < 0.8 ? 5_000 : 250_000));
    const minor = Math.floor(random() * 100);
    const format = random();
    const amount = format < 0.4 ? `${major}.${pad2(minor)}`
      : format < 0.6 ? `${major.toLocaleString('ru-RU').replace(/\u00a0/g, ' ')},${pad2(minor)}`
      : format < 0.75 ? `$${major.toLocaleString('en-US')}.${pad2(minor)}`
      : format < 0.9 ? String(major)
      : `${major.toLocaleString('ru-RU').replace(/\u00a0/g, ' ')} ₽`;

    const year = 2021 + Math.floor(random() * 4);
    const month = 1 + Math.floor(random() * 12);
    const day = 1 + Math.floor(random() * 28);
    const dateFormat = random();
    const date = dateFormat < 0.5 ? `${year}-${pad2(month)}-${pad2(day)}`
      : dateFormat < 0.85 ? `${pad2(day)}.${pad2(month)}.${year}`
      : `${year}-${pad2(month)}-${pad2(day)} ${pad2(Math.floor(random() * 24))}:${pad2(Math.floor(random() * 60))}`;

    const id = `C${String(i).padStart(7, '0')}`;
    chunk += `${[id, name, email, phone, company, amount, pick(random, STATUSES), date].map(csvCell).join(',')}\n`;
    if (chunk.length >= 64 * 1024) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return { path: filePath, bytes: fs.statSync(filePath).size, withCompany };
}

// ---------------------------------------------------------------------------------------------
// Measuring.

interface Sampler {
  stop: () => { peakRssMb: number; peakHeapMb: number; startRssMb: number };
}

/** Samples process.memoryUsage() every 50 ms (RSS of this Node process only, not PostgreSQL's). */
function sampleMemory(intervalMs = 50): Sampler {
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

interface Measurement {
  label: string;
  rows: number;
  seconds: number;
  peakRssMb: number;
  peakHeapMb: number;
  startRssMb: number;
  walMb: number | null;
  nodeCpuSeconds: number;
  pgCpuSeconds: number | null;
}

/**
 * CPU seconds used so far by an embedded PostgreSQL: the postmaster, its live children
 * and the children it has reaped (Linux /proc only; null elsewhere or for DATABASE_URL).
 */
function postgresCpuReader(dataDir: string): () => number | null {
  const ticks = 100; // USER_HZ on Linux
  const stat = (pid: number | string) => {
    try {
      const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return text.slice(text.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
    } catch {
      return undefined;
    }
  };
  return () => {
    try {
      const postmaster = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const own = stat(postmaster);
      if (!own) return null;
      // fields (from 3): ppid is index 1; utime, stime, cutime, cstime are 11..14
      let total = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
      for (const entry of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const fields = stat(entry);
        if (fields && Number(fields[1]) === postmaster) total += Number(fields[11]) + Number(fields[12]);
      }
      return total / ticks;
    } catch {
      return null;
    }
  };
}

async function walLsn(sql: Sql): Promise<string | null> {
  try {
    const [row] = await sql<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`;
    return row.lsn;
  } catch {
    return null;
  }
}

async function walSinceMb(sql: Sql, since: string | null): Promise<number | null> {
  if (!since) return null;
  try {
    const [row] = await sql<{ bytes: string }[]>`select pg_wal_lsn_diff(pg_current_wal_lsn(), ${since}::pg_lsn)::bigint::text as bytes`;
    return Number(row.bytes) / 2 ** 20;
  } catch {
    return null;
  }
}

/** A checkpoint before each timed phase, so that one phase does not pay for the previous one's dirty pages. */
async function settle(sql: Sql): Promise<void> {
  await sql`checkpoint`.catch(() => {}); // needs superuser (or pg_checkpoint) on a DATABASE_URL server: skipped otherwise
}

async function measure<T>(sql: Sql, pgCpu: () => number | null, label: string, rows: number, work: () => Promise<T>): Promise<{ result: T; measurement: Measurement }> {
  await settle(sql);
  const lsn = await walLsn(sql);
  const pgCpuStart = pgCpu();
  const sampler = sampleMemory();
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  let memory: ReturnType<Sampler['stop']> | undefined;
  try {
    const result = await work();
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const pgCpuEnd = pgCpu();
    memory = sampler.stop();
    return {
      result,
      measurement: {
        label, rows, seconds, ...memory,
        walMb: await walSinceMb(sql, lsn),
        nodeCpuSeconds: (cpu.user + cpu.system) / 1e6,
        pgCpuSeconds: pgCpuStart === null || pgCpuEnd === null ? null : pgCpuEnd - pgCpuStart,
      },
    };
  } finally {
    if (!memory) sampler.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// The hub side.

async function hubSync(context: HubContext, workspaceId: string, connectionId: string, fileId: string): Promise<SyncRunRow> {
  const run = await requestSync(context, workspaceId, connectionId, 'cli', { file_id: fileId });
  const started = performance.now();
  const tty = process.stderr.isTTY;
  const finished = await runSync(context, run.id, {
    onProgress: ({ stats }) => {
      if (!tty) return;
      const seconds = (performance.now() - started) / 1000;
      process.stderr.write(`\r  read ${stats.read.toLocaleString('en-US')} (${Math.round(stats.read / Math.max(seconds, 0.001)).toLocaleString('en-US')} records/s)   `);
    },
  });
  if (tty) process.stderr.write('\r\x1b[K');
  if (!finished) throw new Error(`Sync run ${run.id} was not run (already taken or reaped).`);
  return finished;
}

function checkRun(finished: SyncRunRow, expect: { read: number; inserted: number; updated: number; unchanged: number }): void {
  const stats = finished.streams.rows;
  const problems: string[] = [];
  if (finished.status !== 'succeeded') problems.push(`status ${finished.status}${finished.error ? ` (${finished.error.code}: ${finished.error.message})` : ''}`);
  if (!stats) problems.push('no stats for stream "rows"');
  else {
    for (const key of ['read', 'inserted', 'updated', 'unchanged'] as const) {
      if (stats[key] !== expect[key]) problems.push(`${key} = ${stats[key]}, expected ${expect[key]}`);
    }
    if (stats.quarantined !== 0) problems.push(`quarantined = ${stats.quarantined}, expected 0`);
  }
  if (problems.length > 0) {
    throw new Error(`Sync run ${finished.id} did not do what was expected: ${problems.join('; ')}.\n  stats: ${JSON.stringify(stats)}\n  notes: ${JSON.stringify(finished.notes)}`);
  }
}

async function checkTables(sql: Sql, connectionId: string, rows: number, withCompany: number): Promise<void> {
  const [counts] = await sql<{ records: number; people: number; organizations: number; deals: number }[]>`
    select (select count(*)::int from hub.source_records where connection_id = ${connectionId} and deleted_at is null) as records,
           (select count(*)::int from canonical.source_people where connection_id = ${connectionId} and deleted_at is null) as people,
           (select count(*)::int from canonical.source_organizations where connection_id = ${connectionId} and deleted_at is null) as organizations,
           (select count(*)::int from canonical.deals where connection_id = ${connectionId} and deleted_at is null) as deals`;
  const expected = { records: rows, people: rows, organizations: withCompany, deals: rows };
  const wrong = (Object.keys(expected) as (keyof typeof expected)[]).filter((key) => counts[key] !== expected[key]);
  if (wrong.length > 0) {
    throw new Error(`Table counts are wrong: ${wrong.map((key) => `${key} = ${counts[key]}, expected ${expected[key]}`).join('; ')}.`);
  }
}

// ---------------------------------------------------------------------------------------------
// The baseline: the same rows, parsed the same way, COPYed into a plain table.

/** COPY text format: backslash, tab, newline and carriage return are escaped. */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (char) => (char === '\\' ? '\\\\' : char === '\t' ? '\\t' : char === '\n' ? '\\n' : '\\r')) : value;
}

function toCopyLines(headers: readonly string[]): Transform {
  let first = true;
  let buffer = '';
  return new Transform({
    writableObjectMode: true,
    readableObjectMode: false,
    transform(record: string[], _encoding, callback) {
      if (first) {
        first = false; // the header row
        return callback();
      }
      const data: Record<string, string> = {};
      headers.forEach((header, index) => (data[header] = record[index] ?? ''));
      buffer += `${headers.map((header) => copyText(data[header])).join('\t')}\t${copyText(JSON.stringify(data))}\n`;
      if (buffer.length >= 64 * 1024) {
        const out = buffer;
        buffer = '';
        return callback(null, out);
      }
      callback();
    },
    flush(callback) {
      callback(null, buffer || undefined);
    },
  });
}

async function copyBaseline(sql: Sql, filePath: string): Promise<void> {
  const columns = HEADERS.map((header) => `"${header.toLowerCase()}"`);
  const writable = await sql.unsafe(`copy bench_copy_baseline (${columns.join(', ')}, data) from stdin`).writable();
  await pipeline(
    fs.createReadStream(filePath),
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, trim: false }),
    toCopyLines(HEADERS),
    writable,
  );
}

// ---------------------------------------------------------------------------------------------
// Database: DATABASE_URL's server, or an embedded one in the temp dir.

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

interface BenchDatabase {
  url: string;
  where: string;
  pgCpu: () => number | null;
}

async function createBenchDatabase(tmp: string, cleanups: (() => Promise<void>)[]): Promise<BenchDatabase> {
  const name = `hub_bench_${crypto.randomBytes(4).toString('hex')}`;
  const log = createLogger('warn');
  let adminUrl: string;
  let where: string;
  let embedded: EmbeddedServer | undefined;
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
    const parsed = new URL(adminUrl);
    where = `DATABASE_URL server ${parsed.hostname}:${parsed.port || 5432}, database ${name}`;
  } else {
    const port = await freePort();
    embedded = await startEmbeddedPostgres({ dataDir: path.join(tmp, 'postgres'), port, log });
    cleanups.push(() => embedded!.stop());
    adminUrl = embedded.url('postgres');
    where = `embedded PostgreSQL on 127.0.0.1:${port} (data in ${tmp})`;
  }
  const admin = openDatabase(adminUrl, { max: 1 });
  try {
    await admin.sql.unsafe(`create database "${name}"`);
  } finally {
    await admin.close();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const drop = async () => {
    if (embedded) return; // the whole cluster goes with the temp dir
    const cleaner = openDatabase(adminUrl, { max: 1 });
    try {
      await cleaner.sql.unsafe(`drop database if exists "${name}" with (force)`);
    } finally {
      await cleaner.close();
    }
  };
  cleanups.push(drop);
  return { url: url.toString(), where, pgCpu: embedded ? postgresCpuReader(path.join(tmp, 'postgres', 'pg')) : () => null };
}

// ---------------------------------------------------------------------------------------------
// Output.

const int = (value: number) => Math.round(value).toLocaleString('en-US');
const mb = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(0)} MB`);

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('   ')).join('\n');
}

// ---------------------------------------------------------------------------------------------

function usageError(message: string): Error {
  return Object.assign(new Error(message), { name: 'UsageError' });
}

export default async function ingestBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { rows: { type: 'string', default: '200000' }, batch: { type: 'string' }, help: { type: 'boolean', default: false } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write('npm run bench -- ingest [--rows N (default 200000)] [--batch N (HUB_SYNC_BATCH_SIZE)]\n');
    return 0;
  }
  const rows = Number(values.rows);
  if (!Number.isSafeInteger(rows) || rows < 1) throw usageError(`--rows must be a positive integer (got ${values.rows}).`);
  if (values.batch !== undefined && !/^\d+$/.test(values.batch)) throw usageError(`--batch must be a positive integer (got ${values.batch}).`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-bench-'));
  // Run last-in first-out: database handles, then the database, then PostgreSQL; the temp dir after all.
  const cleanups: (() => Promise<void>)[] = [];
  let cleaning: Promise<void> | undefined;
  // One cleanup, shared: a signal and the main flow's finally both wait for the same one.
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const step of cleanups.reverse()) {
        await step().catch((error) => process.stderr.write(`cleanup: ${error instanceof Error ? error.message : String(error)}\n`));
      }
      fs.rmSync(tmp, { recursive: true, force: true });
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: cleaning up…\n`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const cpus = os.cpus();
    console.log(`ingest benchmark: ${int(rows)} rows; node ${process.version}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}`);

    const generateStarted = performance.now();
    const file = await generateCsv(path.join(tmp, `bench-${rows}.csv`), rows);
    console.log(`generated ${file.path}: ${(file.bytes / 2 ** 20).toFixed(1)} MB in ${((performance.now() - generateStarted) / 1000).toFixed(1)} s`);

    const benchDb = await createBenchDatabase(tmp, cleanups);
    const database: Database = openDatabase(benchDb.url);
    cleanups.push(() => database.close());
    await migrateDatabase(database);
    const { sql } = database;
    const [{ version }] = await sql<{ version: string }[]>`select current_setting('server_version') as version`;
    console.log(`database: ${benchDb.where}; PostgreSQL ${version}`);

    const masterKey = crypto.randomBytes(32);
    const config = loadConfig({
      ...process.env,
      DATABASE_URL: benchDb.url,
      HUB_DATA_DIR: path.join(tmp, 'data'),
      HUB_MASTER_KEY: masterKey.toString('base64'),
      HUB_LOG_LEVEL: 'warn',
      ...(values.batch ? { HUB_SYNC_BATCH_SIZE: values.batch } : {}),
    });
    const context: HubContext = { sql, config, log: createLogger('warn'), masterKey, connectors };
    const workspace = await createWorkspace(sql, 'Benchmark');
    const connection = await createConnection(context, workspace.id, { kind: 'csv', name: 'bench.csv', config: {} });
    const registerStarted = performance.now();
    const sourceFile = await registerLocalFile(context, { workspaceId: workspace.id, connectionId: connection.id }, file.path);
    console.log(`registered the file (sha256 in a stream) in ${((performance.now() - registerStarted) / 1000).toFixed(2)} s, not counted; sync batch size ${config.HUB_SYNC_BATCH_SIZE}`);
    console.log('');

    // 1. The hub: a first sync, everything new.
    console.log('hub sync (first, all rows new)…');
    const first = await measure(sql, benchDb.pgCpu, 'hub sync (first, all new)', rows, () => hubSync(context, workspace.id, connection.id, sourceFile.id));
    checkRun(first.result, { read: rows, inserted: rows, updated: 0, unchanged: 0 });
    await checkTables(sql, connection.id, rows, file.withCompany);

    // 2. The hub again: the same file, every row unchanged.
    console.log('hub re-sync (same file, all rows unchanged)…');
    const again = await measure(sql, benchDb.pgCpu, 'hub re-sync (all unchanged)', rows, () => hubSync(context, workspace.id, connection.id, sourceFile.id));
    checkRun(again.result, { read: rows, inserted: 0, updated: 0, unchanged: rows });
    await checkTables(sql, connection.id, rows, file.withCompany);

    // 3. The baseline: the same rows COPYed into a plain table.
    console.log('COPY baseline…');
    await sql.unsafe(`create table bench_copy_baseline (${HEADERS.map((header) => `"${header.toLowerCase()}" text`).join(', ')}, data jsonb not null)`);
    const copy = await measure(sql, benchDb.pgCpu, 'COPY baseline (plain table)', rows, () => copyBaseline(sql, file.path));
    const [{ copied }] = await sql<{ copied: number }[]>`select count(*)::int as copied from bench_copy_baseline`;
    if (copied !== rows) throw new Error(`The COPY baseline stored ${copied} rows, expected ${rows}.`);

    const [sizes] = await sql<{ hub: string; baseline: string }[]>`
      select (pg_total_relation_size('hub.source_records') + pg_total_relation_size('canonical.source_people')
              + pg_total_relation_size('canonical.source_organizations') + pg_total_relation_size('canonical.deals'))::text as hub,
             pg_total_relation_size('bench_copy_baseline')::text as baseline`;

    const rate = (m: Measurement) => m.rows / m.seconds;
    const ratio = rate(first.measurement) / rate(copy.measurement);
    const hubPeakRss = Math.max(first.measurement.peakRssMb, again.measurement.peakRssMb);
    const ratioOk = ratio >= TARGET_RATIO;
    const rssOk = hubPeakRss < TARGET_RSS_MB;

    console.log('');
    console.log(table([
      ['', 'records/s', 'elapsed', 'peak RSS', 'RSS at start', 'peak heap', 'Node CPU', 'PG CPU', 'WAL written'],
      ...[first.measurement, again.measurement, copy.measurement].map((m) => [
        m.label, int(rate(m)), `${m.seconds.toFixed(2)} s`, mb(m.peakRssMb), mb(m.startRssMb), mb(m.peakHeapMb),
        `${m.nodeCpuSeconds.toFixed(1)} s`, m.pgCpuSeconds === null ? 'n/a' : `${m.pgCpuSeconds.toFixed(1)} s`, mb(m.walMb),
      ]),
    ]));
    console.log('');
    console.log(`ratio hub sync / COPY baseline: ${ratio.toFixed(3)}   (re-sync / COPY: ${(rate(again.measurement) / rate(copy.measurement)).toFixed(3)})`);
    console.log(`peak RSS during the hub syncs: ${hubPeakRss.toFixed(0)} MB (this Node process, sampled every 50 ms; kernel high-water mark for the whole process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB)`);
    console.log('PostgreSQL runs as separate processes: its memory is not counted in these figures (its CPU is shown apart, embedded only).');
    console.log(`on disk: hub tables (source_records + people + organizations + deals) ${mb(Number(sizes.hub) / 2 ** 20)}, baseline table ${mb(Number(sizes.baseline) / 2 ** 20)}`);
    console.log('');
    console.log(`  ratio ≥ ${TARGET_RATIO}:        ${ratioOk ? 'PASS' : 'FAIL'}  (${ratio.toFixed(3)})`);
    console.log(`  peak RSS < ${TARGET_RSS_MB} MB:  ${rssOk ? 'PASS' : 'FAIL'}  (${hubPeakRss.toFixed(0)} MB)`);
    console.log('');
    console.log(ratioOk && rssOk ? '==> PASS: the hub meets both ingest targets.' : `==> FAIL: ${[!ratioOk && `ratio ${ratio.toFixed(3)} < ${TARGET_RATIO}`, !rssOk && `peak RSS ${hubPeakRss.toFixed(0)} MB ≥ ${TARGET_RSS_MB} MB`].filter(Boolean).join('; ')}.`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}
