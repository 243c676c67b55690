// `npm run bench -- reconcile [--sizes 100000,1000000] [--sets febrl3,fake_1000,senzing,generated] [--skip-accuracy] [--skip-speed]`
//
// Accuracy: `hub eval-matching`'s path (csv connection → sync → full reconcile → pairwise
// precision/recall/F1) on FEBRL3, Splink's fake_1000, the Senzing truth set (its three files
// joined into one CSV) and a generated four-source set in Cyrillic and Latin.
// Speed: generated multi-source person records (about 3 per client) written straight into
// the canonical tables, then a full reconcile (time, comparisons vs all pairs, peak RSS), and
// 1,000 new records reconciled incrementally against them.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { createWorkspace } from '../src/core/auth/index.js';
import { createConnection } from '../src/core/connections/index.js';
import { evalMatching, formatEvalReport, type EvalReport } from '../src/core/reconcile/eval.js';
import { drainFactChanges, reconcileFull } from '../src/core/reconcile/index.js';
import { copyRows } from '../src/db/copy.js';
import type { Sql } from '../src/db/index.js';
import { generatePeople } from './_people.js';
import { benchHub, sampleMemory, type BenchHub } from './_shared.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.resolve(here, '../../shared/data/er');
const TARGET_F1 = 0.95;
const TARGET_FULL_1M_S = 120;
const TARGET_INCREMENTAL_S = 5;

function csvLine(cells: string[]): string {
  return cells.map((cell) => (/[",\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell)).join(',');
}

/** Senzing's customers, watchlist and reference files as one CSV with its truth column. */
function senzingCsv(tmp: string): string {
  const dir = path.join(DATA, 'senzing');
  const truth = new Map((parse(fs.readFileSync(path.join(dir, 'actual_truthset_key.csv')), { columns: true, bom: true }) as Record<string, string>[]).map((row) => [`${row.DATA_SOURCE}-${row.RECORD_ID}`, row.CLUSTER_ID]));
  const lines = [csvLine(['KEY', 'NAME', 'FIRST', 'LAST', 'ORGANIZATION', 'DOB', 'EMAIL', 'ADDRESS', 'CITY', 'POSTCODE', 'PHONE', 'ID_NUMBER', 'TRUTH'])];
  for (const file of ['customers.csv', 'watchlist.csv', 'reference.csv']) {
    for (const row of parse(fs.readFileSync(path.join(dir, file)), { columns: true, bom: true, relax_column_count: true }) as Record<string, string>[]) {
      const key = `${row.DATA_SOURCE}-${row.RECORD_ID}`;
      lines.push(csvLine([
        key, row.PRIMARY_NAME_FULL || row.NATIVE_NAME_FULL || '', row.PRIMARY_NAME_FIRST ?? '', row.PRIMARY_NAME_LAST ?? '', row.PRIMARY_NAME_ORG ?? '',
        row.DATE_OF_BIRTH ?? '', row.EMAIL_ADDRESS ?? '', row.ADDR_FULL || row.ADDR_LINE1 || '', row.ADDR_CITY ?? '', row.ADDR_POSTAL_CODE ?? '', row.PHONE_NUMBER ?? '',
        row.SSN_NUMBER || row.NATIONAL_ID_NUMBER || row.PASSPORT_NUMBER || row.TAX_ID_NUMBER || '', truth.get(key) ?? `unlabelled-${key}`,
      ]));
    }
  }
  const file = path.join(tmp, 'senzing.csv');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const SENZING_MAPPING = {
  key_column: 'KEY',
  columns: { NAME: 'person.name', FIRST: 'person.first_name', LAST: 'person.last_name', ORGANIZATION: 'person.company', DOB: 'person.birth_date', EMAIL: 'person.email', ADDRESS: 'person.address', CITY: 'person.city', POSTCODE: 'person.postal_code', PHONE: 'person.phone', ID_NUMBER: 'person.national_id' },
  date_order: 'MDY',
};

function generatedCsv(tmp: string, people: number): string {
  const { rows } = generatePeople(people, 11);
  const lines = [csvLine(['ID', 'SOURCE', 'NAME', 'PHONE', 'EMAIL', 'TRUTH'])];
  let n = 0;
  for (const row of rows()) lines.push(csvLine([String(n++), row.source, row.name, row.phone, row.email, String(row.person)]));
  const file = path.join(tmp, 'generated-four-sources.csv');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const GENERATED_MAPPING = { key_column: 'ID', columns: { NAME: 'person.name', PHONE: 'person.phone', EMAIL: 'person.email' } };

async function accuracy(hub: BenchHub, tmp: string, only?: string[]): Promise<boolean> {
  const readMapping = (name: string) => JSON.parse(fs.readFileSync(path.join(here, 'er', name), 'utf8'));
  const all: { set: string; name: string; target: boolean; run: () => Promise<EvalReport> }[] = [
    { set: 'febrl3', name: 'FEBRL3', target: true, run: () => evalMatching(hub.context, { file: path.join(DATA, 'febrl3.csv'), mapping: readMapping('febrl3.mapping.json'), truth: 'rec_id', truthPattern: 'rec-(\\d+)' }) },
    { set: 'fake_1000', name: 'fake_1000', target: true, run: () => evalMatching(hub.context, { file: path.join(DATA, 'fake_1000.csv'), mapping: readMapping('fake_1000.mapping.json'), truth: 'cluster' }) },
    { set: 'senzing', name: 'Senzing truth set', target: false, run: () => evalMatching(hub.context, { file: senzingCsv(tmp), mapping: SENZING_MAPPING, truth: 'TRUTH', inspect: ['REFERENCE-2061', 'WATCHLIST-2062', 'CUSTOMERS-2063'] }) },
    { set: 'generated', name: 'generated four sources (3,000 people)', target: false, run: () => evalMatching(hub.context, { file: generatedCsv(tmp, 3000), mapping: GENERATED_MAPPING, truth: 'TRUTH' }) },
  ];
  const runs = all.filter((entry) => !only || only.includes(entry.set));
  let ok = true;
  for (const entry of runs) {
    console.log(`\n== ${entry.name}`);
    const report = await entry.run();
    process.stdout.write(formatEvalReport(report));
    if (entry.target) {
      const pass = report.f1 >= TARGET_F1;
      ok &&= pass;
      console.log(`  F1 ≥ ${TARGET_F1}: ${pass ? 'PASS' : 'FAIL'} (${report.f1.toFixed(4)})`);
    }
    if (report.inspected) {
      const ids = Object.values(report.inspected);
      const together = ids.every((id) => id && id === ids[0]);
      ok &&= together;
      console.log(`  the Latin / Russian / Belarusian person (${Object.keys(report.inspected).join(', ')}) in one cluster: ${together ? 'PASS' : 'FAIL'} (${JSON.stringify(report.inspected)})`);
    }
  }
  return ok;
}

/** Writes generated people straight into hub.source_records + canonical.source_people (the sync path is the ingest benchmark's subject). */
async function seed(sql: Sql, workspaceId: string, connectionIds: Record<string, string>, rows: Iterable<{ source: string; name: string; phone: string; email: string; key: string }>): Promise<number> {
  await sql`create temp table if not exists seed (connection_id uuid, external_id text, name text, phones text[], emails text[]) on commit preserve rows`;
  await sql`truncate seed`;
  const count = await copyRows(sql, 'seed', ['connection_id', 'external_id', 'name', 'phones', 'emails'], (function* () {
    for (const row of rows) yield [connectionIds[row.source], row.key, row.name || null, row.phone ? [row.phone] : [], row.email ? [row.email] : []];
  })());
  await sql`
    with inserted as (
      insert into hub.source_records (workspace_id, connection_id, stream, external_id, data, hash)
      select ${workspaceId}, connection_id, 'rows', external_id, '{}'::jsonb, md5(external_id) from seed
      returning id, connection_id, external_id
    )
    insert into canonical.source_people (source_record_id, workspace_id, connection_id, external_id, name, emails, phones)
    select i.id, ${workspaceId}, i.connection_id, i.external_id, s.name, s.emails, s.phones
    from inserted i join seed s on s.connection_id = i.connection_id and s.external_id = i.external_id`;
  return count;
}

/** Pairwise precision and recall of the golden customers against the generated person of each record. */
async function pairwiseAgainstTruth(sql: Sql, workspaceId: string): Promise<{ precision: number; recall: number; f1: number; clusters: number; people: number }> {
  const [row] = await sql<{ predicted: string; actual: string; correct: string; clusters: string; people: string }[]>`
    with linked as (
      select l.customer_id, t.person
      from canonical.customer_links l
      join hub.source_records r on r.id = l.source_record_id
      join bench_truth t on t.external_id = r.external_id
      where l.workspace_id = ${workspaceId}
    )
    select
      (select coalesce(sum(n * (n - 1) / 2), 0) from (select count(*)::numeric as n from linked group by customer_id) c)::text as predicted,
      (select coalesce(sum(n * (n - 1) / 2), 0) from (select count(*)::numeric as n from linked group by person) c)::text as actual,
      (select coalesce(sum(n * (n - 1) / 2), 0) from (select count(*)::numeric as n from linked group by customer_id, person) c)::text as correct,
      (select count(distinct customer_id) from linked)::text as clusters,
      (select count(distinct person) from linked)::text as people`;
  const [predicted, actual, correct] = [Number(row.predicted), Number(row.actual), Number(row.correct)];
  const precision = predicted === 0 ? 1 : correct / predicted;
  const recall = actual === 0 ? 1 : correct / actual;
  return { precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall), clusters: Number(row.clusters), people: Number(row.people) };
}

async function speed(hub: BenchHub, sizes: number[]): Promise<boolean> {
  const { sql } = hub.context;
  let ok = true;
  for (const records of sizes) {
    const people = Math.round(records / 3);
    console.log(`\n== speed: ${records.toLocaleString('en-US')} source person records (${people.toLocaleString('en-US')} generated people, four sources)`);
    const workspace = await createWorkspace(sql, `bench ${records}`);
    const connectionIds: Record<string, string> = {};
    for (const source of ['sheet', 'stripe', 'mail', 'crm']) connectionIds[source] = (await createConnection(hub.context, workspace.id, { kind: 'csv', name: source, config: {} })).id;
    const generated = generatePeople(people + 400, 5);
    // Everything but the last 400 people now; those come later, as the 1,000 "new" records.
    const all = [...generated.rows()].map((row, n) => ({ ...row, key: `r${n}` }));
    const cut = all.findIndex((row) => row.person >= people);
    const initial = all.slice(0, cut);
    let seeded = await seed(sql, workspace.id, connectionIds, initial);
    if (seeded < records) seeded += await seed(sql, workspace.id, connectionIds, all.slice(cut, cut + records - seeded));
    // The generated person behind each seeded record, to score the clustering against.
    await sql`create temp table if not exists bench_truth (external_id text primary key, person int) on commit preserve rows`;
    await sql`truncate bench_truth`;
    await copyRows(sql, 'bench_truth', ['external_id', 'person'], (function* () {
      for (const row of all.slice(0, seeded)) yield [row.key, row.person];
    })());
    const later = all.slice(cut + Math.max(0, records - (cut))).slice(0, 1000);
    console.log(`  seeded ${seeded.toLocaleString('en-US')} records`);

    const memory = sampleMemory();
    const started = performance.now();
    const organization = await reconcileFull(sql, workspace.id, 'organization', { train: true });
    const stats = await reconcileFull(sql, workspace.id, 'person', { train: true });
    const fullSeconds = (performance.now() - started) / 1000;
    const { peakRssMb } = memory.stop();
    void organization;
    console.log(`  full reconcile: ${fullSeconds.toFixed(1)} s (${Math.round(stats.records / fullSeconds).toLocaleString('en-US')} records/s), peak RSS ${peakRssMb.toFixed(0)} MB`);
    console.log(`  ${stats.records.toLocaleString('en-US')} records → ${stats.clusters.toLocaleString('en-US')} customers; compared ${stats.candidate_pairs.toLocaleString('en-US')} pairs of ${stats.all_pairs.toLocaleString('en-US')} possible (${((stats.candidate_pairs / stats.all_pairs) * 100).toExponential(2)}%), ${stats.review_candidates.toLocaleString('en-US')} to review`);
    console.log(`  steps (ms): ${Object.entries(stats.timings_ms).map(([step, ms]) => `${step} ${ms}`).join(', ')}`);
    if (stats.oversized_blocks.length > 0) console.log(`  oversized blocks skipped, largest: ${stats.oversized_blocks.slice(0, 3).map((block) => `${block.key} (${block.records})`).join(', ')}`);

    // 1,000 new records, some of them new sources of existing clients: one change log entry per 100, as sync pages write them.
    const added = later.map((row, n) => ({ ...row, key: `new${n}` }));
    const before = await sql<{ max: string }[]>`select coalesce(max(id), 0)::text as max from hub.source_records`;
    await seed(sql, workspace.id, connectionIds, added);
    const ids = (await sql<{ id: string }[]>`select id from hub.source_records where workspace_id = ${workspace.id} and id > ${before[0].max}::bigint order by id`).map((row) => Number(row.id));
    for (let i = 0; i < ids.length; i += 100) await sql`insert into hub.fact_changes (workspace_id, kind, source_record_ids) values (${workspace.id}, 'person', ${ids.slice(i, i + 100)}::bigint[])`;
    const incrementalStarted = performance.now();
    const totals = await drainFactChanges(sql, workspace.id);
    const incrementalSeconds = (performance.now() - incrementalStarted) / 1000;
    console.log(`  incremental: ${ids.length} new records in ${incrementalSeconds.toFixed(2)} s (${totals.batches} batches, ${totals.records} records re-clustered, ${totals.events} events)`);
    console.log(`  incremental steps (ms): ${Object.entries(totals.timings_ms).map(([step, ms]) => `${step} ${ms}`).join(', ')}`);

    const truth = await pairwiseAgainstTruth(sql, workspace.id);
    console.log(`  against the generated people: precision ${(truth.precision * 100).toFixed(2)} %, recall ${(truth.recall * 100).toFixed(2)} %, F1 ${truth.f1.toFixed(4)}; ${truth.clusters.toLocaleString('en-US')} customers for ${truth.people.toLocaleString('en-US')} people (seeded records, after the incremental page)`);

    if (records >= 1_000_000) {
      const pass = fullSeconds < TARGET_FULL_1M_S;
      ok &&= pass;
      console.log(`  full 1M < ${TARGET_FULL_1M_S} s: ${pass ? 'PASS' : 'FAIL'} (${fullSeconds.toFixed(1)} s)`);
    }
    const pass = incrementalSeconds < TARGET_INCREMENTAL_S;
    ok &&= pass;
    console.log(`  incremental 1,000 < ${TARGET_INCREMENTAL_S} s: ${pass ? 'PASS' : 'FAIL'} (${incrementalSeconds.toFixed(2)} s)`);
    await sql`drop table if exists seed`;
  }
  return ok;
}

export default async function reconcileBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { sizes: { type: 'string', default: '100000,1000000' }, sets: { type: 'string' }, 'skip-accuracy': { type: 'boolean', default: false }, 'skip-speed': { type: 'boolean', default: false } } });
  const sizes = values.sizes.split(',').map((size) => Number(size.replace(/_/g, '')));
  if (sizes.some((size) => !Number.isInteger(size) || size < 1000)) throw Object.assign(new Error('--sizes takes record counts ≥ 1000, comma-separated'), { name: 'UsageError' });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-bench-reconcile-'));
  fs.chmodSync(tmp, 0o755);
  const hub = await benchHub(tmp);
  console.log(`reconcile benchmark; node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}; ${hub.where}; run ${crypto.randomBytes(3).toString('hex')}`);
  try {
    const accurate = values['skip-accuracy'] ? true : await accuracy(hub, tmp, values.sets?.split(','));
    const fast = values['skip-speed'] ? true : await speed(hub, sizes);
    console.log(`\n==> ${accurate && fast ? 'PASS' : 'FAIL'}`);
    return accurate && fast ? 0 : 1;
  } finally {
    await hub.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
