// `npm run bench -- ingest-floor [--rows 200000]`
//
// The least PostgreSQL must do to store a sync's rows in the hub's own tables, against the
// ingest benchmark's baseline. Both COPY the same generated rows, already built in memory
// (no file, no parsing, no mapping, no hashing, no lookups): once into a plain table (the
// baseline of `npm run bench -- ingest`), once into hub.source_records and the canonical
// tables a CSV row states (source_people, source_organizations for two rows in three, deals),
// with their indexes and triggers. The ratio baseline / hub tables is the ceiling of the
// ingest ratio on this machine for this schema, whatever the sync engine does.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { copyRows } from '../src/db/copy.js';
import { benchHub } from './_shared.js';

export default async function ingestFloorBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { rows: { type: 'string', default: '200000' } } });
  const count = Number(values.rows);
  if (!Number.isSafeInteger(count) || count < 1000) throw Object.assign(new Error('--rows takes a whole number ≥ 1000'), { name: 'UsageError' });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-bench-floor-'));
  fs.chmodSync(tmp, 0o755);
  const hub = await benchHub(tmp);
  const { sql } = hub.context;
  try {
    console.log(`ingest floor: ${count.toLocaleString('en-US')} rows; ${hub.where}`);
    const rows = Array.from({ length: count }, (_, i) => ({
      ID: `C${String(i).padStart(7, '0')}`, Name: `Иван Петров ${i}`, Email: `ivan.petrov${i}@gmail.com`, Phone: `+7 (916) 123-${String(i % 100).padStart(2, '0')}-${String(i % 97).padStart(2, '0')}`,
      Company: i % 3 === 0 ? '' : 'ООО «Ромашка»', Amount: '1 234,56', Status: 'оплачено', Date: '2024-03-01',
    }));
    const workspace = crypto.randomUUID();
    const connection = crypto.randomUUID();
    await sql`create table bench_floor_baseline (id text, name text, email text, phone text, company text, amount text, status text, date text, data jsonb not null)`;
    const time = async (label: string, work: () => Promise<unknown>) => {
      await sql`checkpoint`.catch(() => undefined);
      const started = performance.now();
      await work();
      const seconds = (performance.now() - started) / 1000;
      console.log(`  ${label.padEnd(44)} ${seconds.toFixed(2).padStart(6)} s  ${Math.round(count / seconds).toLocaleString('en-US').padStart(9)} rows/s`);
      return seconds;
    };
    const baseline = await time('COPY into a plain table (the baseline)', () => copyRows(sql, 'bench_floor_baseline', ['id', 'name', 'email', 'phone', 'company', 'amount', 'status', 'date', 'data'],
      rows.map((row) => [row.ID, row.Name, row.Email, row.Phone, row.Company, row.Amount, row.Status, row.Date, row])));
    const records = await time('COPY into hub.source_records', () => copyRows(sql, 'hub.source_records', ['workspace_id', 'connection_id', 'stream', 'external_id', 'data', 'hash'],
      rows.map((row) => [workspace, connection, 'rows', row.ID, row, crypto.createHash('sha256').update(JSON.stringify(row)).digest('base64url')])));
    const ids = (await sql<{ id: string }[]>`select id from hub.source_records where connection_id = ${connection} order by id`).map((row) => row.id);
    const people = await time('COPY into canonical.source_people', () => copyRows(sql, 'canonical.source_people', ['source_record_id', 'workspace_id', 'connection_id', 'external_id', 'name', 'emails', 'phones'],
      rows.map((row, i) => [ids[i], workspace, connection, row.ID, row.Name, [row.Email], [row.Phone]])));
    const organizations = await time('COPY into canonical.source_organizations', () => copyRows(sql, 'canonical.source_organizations', ['source_record_id', 'workspace_id', 'connection_id', 'external_id', 'name'],
      rows.flatMap((row, i) => (row.Company ? [[ids[i], workspace, connection, row.ID, row.Company]] : []))));
    const deals = await time('COPY into canonical.deals', () => copyRows(sql, 'canonical.deals', ['source_record_id', 'workspace_id', 'connection_id', 'external_id', 'title', 'customer_ref', 'status', 'amount', 'currency', 'created_at', 'closed_at'],
      rows.map((row, i) => [ids[i], workspace, connection, row.ID, row.Name, row.ID, 'won', 123456, 'RUB', new Date('2024-03-01T00:00:00Z'), new Date('2024-03-02T00:00:00Z')])));
    const hubTables = records + people + organizations + deals;
    console.log(`\n  the hub's tables, one after another (as one transaction writes them): ${hubTables.toFixed(2)} s`);
    console.log(`  ceiling of the ingest ratio for this schema: ${(baseline / hubTables).toFixed(3)} (the ingest benchmark's target is 0.35)`);
    return 0;
  } finally {
    await hub.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
