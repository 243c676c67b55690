import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse';
import type { HubContext } from '../context.js';
import { createConnection } from '../connections/index.js';
import { createWorkspace } from '../auth/index.js';
import { registerLocalFile } from '../files/index.js';
import { requestSync, runSync } from '../ingest/index.js';
import { HubError } from '../errors.js';
import type { Sql } from '../../db/index.js';
import { reconcileFull, RECONCILE_KINDS, type ReconcileStats } from './index.js';
import { scorePair, type Features, type FieldEvidence, type Params } from './model.js';

// `hub eval-matching`: how well reconciliation finds the truth of a labelled file. The file
// goes through the real path (a csv connection with the given column mapping, a sync, a
// full reconcile) in a scratch workspace; the clusters are then compared with the truth
// column pair by pair.

export interface EvalOptions {
  file: string;
  /** A csv connection config: key_column, columns (header → canonical field), date_order, … */
  mapping: Record<string, unknown>;
  truth: string;
  /** A regular expression whose first group is the truth label inside the truth column (e.g. FEBRL's rec-(\d+)-…). */
  truthPattern?: string;
  /** Workspace reconcile settings to try (thresholds, phone_region). */
  settings?: Record<string, unknown>;
  keep?: boolean;
  examples?: number;
  /** Keys of records whose predicted cluster the report should name (e.g. one person in several scripts). */
  inspect?: string[];
}

export interface PairExample {
  a: string;
  b: string;
  score: number;
  evidence: FieldEvidence[];
}

export interface EvalReport {
  file: string;
  records: number;
  evaluated: number;
  truth_clusters: number;
  predicted_clusters: number;
  true_pairs: number;
  predicted_pairs: number;
  correct_pairs: number;
  precision: number;
  recall: number;
  f1: number;
  worst_false_merges: PairExample[];
  worst_misses: PairExample[];
  reconcile: ReconcileStats[];
  seconds: { sync: number; reconcile: number };
  workspace_id: string;
  /** For options.inspect: key → predicted golden id (null when not reconciled). */
  inspected?: Record<string, string | null>;
}

const pairs = (n: number) => (n * (n - 1)) / 2;

export async function evalMatching(context: HubContext, options: EvalOptions): Promise<EvalReport> {
  if (!fs.existsSync(options.file)) throw new HubError('file_not_found', 400, `No file at ${options.file}.`);
  const columns = (options.mapping.columns ?? {}) as Record<string, string>;
  if (columns[options.truth]) throw new HubError('invalid_request', 400, `The truth column "${options.truth}" must not be mapped: matching would see the answer.`);
  const { sql } = context;
  const workspace = await createWorkspace(sql, `eval-matching ${path.basename(options.file)} ${new Date().toISOString()}`);
  if (options.settings) await sql`update hub.workspaces set settings = ${sql.json({ reconcile: options.settings } as never)} where id = ${workspace.id}`;
  const connection = await createConnection(context, workspace.id, { kind: 'csv', name: path.basename(options.file), config: options.mapping });
  const file = await registerLocalFile(context, { workspaceId: workspace.id, connectionId: connection.id }, options.file);
  const syncStarted = performance.now();
  const run = await requestSync(context, workspace.id, connection.id, 'cli', { file_id: file.id });
  const finished = await runSync(context, run.id);
  if (finished?.status !== 'succeeded') throw new HubError('sync_failed', 500, `The sync of ${options.file} failed: ${finished?.error?.message ?? 'unknown error'}.`);
  const syncSeconds = (performance.now() - syncStarted) / 1000;

  // The sync logged its facts for the derive job; this run reconciles in full instead.
  await sql`delete from hub.fact_changes where workspace_id = ${workspace.id}`;
  await sql`select graphile_worker.remove_job(${`derive:${workspace.id}`})`;
  const reconcileStarted = performance.now();
  const stats: ReconcileStats[] = [];
  for (const kind of RECONCILE_KINDS) stats.push(await reconcileFull(sql, workspace.id, kind, { train: true }));
  const reconcileSeconds = (performance.now() - reconcileStarted) / 1000;

  const truthOf = await readTruth(options.file, String(options.mapping.key_column ?? ''), options.truth, options.truthPattern);
  // A record's predicted cluster: its golden customer, else its golden organization.
  const predicted = await sql<{ external_id: string; golden: string }[]>`
    select s.external_id, coalesce(cl.customer_id::text, 'org:' || ol.organization_id::text) as golden
    from hub.source_records s
    left join canonical.customer_links cl on cl.source_record_id = s.id
    left join canonical.organization_links ol on ol.source_record_id = s.id
    where s.connection_id = ${connection.id} and s.deleted_at is null and (cl.customer_id is not null or ol.organization_id is not null)`;
  const goldenOf = new Map(predicted.map((row) => [row.external_id, row.golden]));

  const truthGroups = new Map<string, string[]>();
  const predictedGroups = new Map<string, string[]>();
  const both = new Map<string, number>();
  for (const [key, truth] of truthOf) {
    const golden = goldenOf.get(key);
    if (!golden) continue;
    push(truthGroups, truth, key);
    push(predictedGroups, golden, key);
    const cell = `${truth}\u0000${golden}`;
    both.set(cell, (both.get(cell) ?? 0) + 1);
  }
  const truePairs = sum([...truthGroups.values()].map((group) => pairs(group.length)));
  const predictedPairs = sum([...predictedGroups.values()].map((group) => pairs(group.length)));
  const correct = sum([...both.values()].map(pairs));
  const precision = predictedPairs === 0 ? 1 : correct / predictedPairs;
  const recall = truePairs === 0 ? 1 : correct / truePairs;

  const examples = options.examples ?? 5;
  const featuresOf = await loadFeatures(sql, workspace.id, connection.id);
  const [{ params }] = await sql<{ params: Params }[]>`select params from hub.match_models where workspace_id = ${workspace.id} and kind = 'person'`;
  const explain = (a: string, b: string): PairExample | undefined => {
    const left = featuresOf.get(a);
    const right = featuresOf.get(b);
    if (!left || !right) return undefined;
    const scored = scorePair('person', params, left, right, true);
    return { a, b, score: Math.round(scored.weight * 100) / 100, evidence: scored.evidence };
  };
  const falseMerges: PairExample[] = [];
  for (const group of predictedGroups.values()) {
    if (group.length < 2 || group.length > 200) continue;
    for (let i = 0; i < group.length; i++) for (let j = i + 1; j < group.length; j++) {
      if (truthOf.get(group[i]) !== truthOf.get(group[j])) {
        const example = explain(group[i], group[j]);
        if (example) falseMerges.push(example);
      }
    }
  }
  const misses: PairExample[] = [];
  for (const group of truthGroups.values()) {
    if (group.length < 2 || group.length > 200) continue;
    for (let i = 0; i < group.length; i++) for (let j = i + 1; j < group.length; j++) {
      if (goldenOf.get(group[i]) !== goldenOf.get(group[j])) {
        const example = explain(group[i], group[j]);
        if (example) misses.push(example);
      }
    }
  }
  // Worst: the wrong merges that scored highest, the misses that scored lowest.
  falseMerges.sort((x, y) => y.score - x.score);
  misses.sort((x, y) => x.score - y.score);

  const report: EvalReport = {
    file: options.file,
    records: truthOf.size,
    evaluated: goldenOf.size,
    truth_clusters: truthGroups.size,
    predicted_clusters: predictedGroups.size,
    true_pairs: truePairs,
    predicted_pairs: predictedPairs,
    correct_pairs: correct,
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    worst_false_merges: falseMerges.slice(0, examples),
    worst_misses: misses.slice(0, examples),
    reconcile: stats,
    seconds: { sync: syncSeconds, reconcile: reconcileSeconds },
    workspace_id: workspace.id,
    ...(options.inspect ? { inspected: Object.fromEntries(options.inspect.map((key) => [key, goldenOf.get(key) ?? null])) } : {}),
  };
  if (!options.keep) await dropWorkspace(sql, workspace.id);
  return report;
}

function push(map: Map<string, string[]>, key: string, value: string) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

async function readTruth(file: string, keyColumn: string, truthColumn: string, truthPattern?: string): Promise<Map<string, string>> {
  const truth = new Map<string, string>();
  let pattern: RegExp | undefined;
  try {
    pattern = truthPattern ? new RegExp(truthPattern) : undefined;
  } catch (error) {
    throw new HubError('invalid_request', 400, `--truth-pattern is not a regular expression: ${(error as Error).message}`);
  }
  const parser = fs.createReadStream(file).pipe(parse({ columns: (header: string[]) => header.map((name) => name.replace(/^\uFEFF/, '').trim()), relax_column_count: true, skip_empty_lines: true }));
  let checked = false;
  for await (const row of parser as AsyncIterable<Record<string, string>>) {
    if (!checked) {
      if (!(truthColumn in row)) throw new HubError('invalid_request', 400, `No column "${truthColumn}" in ${file}.`, { columns: Object.keys(row) });
      if (!(keyColumn in row)) throw new HubError('invalid_request', 400, `The mapping's key_column "${keyColumn}" is not a column of ${file}.`, { columns: Object.keys(row) });
      checked = true;
    }
    const value = String(row[truthColumn]).trim();
    const label = pattern ? pattern.exec(value)?.[1] : value;
    if (label === undefined) throw new HubError('invalid_request', 400, `--truth-pattern finds no label in "${value}" (column ${truthColumn}).`);
    truth.set(String(row[keyColumn]).trim(), label);
  }
  return truth;
}

async function loadFeatures(sql: Sql, workspaceId: string, connectionId: string): Promise<Map<string, Features>> {
  const rows = await sql<{ external_id: string; features: Features }[]>`
    select s.external_id, m.features from hub.match_records m join hub.source_records s on s.id = m.source_record_id
    where m.workspace_id = ${workspaceId} and m.kind = 'person' and s.connection_id = ${connectionId}`;
  return new Map(rows.map((row) => [row.external_id, row.features]));
}

/** Removes a scratch workspace and everything in it. */
export async function dropWorkspace(sql: Sql, workspaceId: string): Promise<void> {
  await sql.begin(async (tx) => {
    const tables = await tx<{ schema: string; name: string }[]>`
      select table_schema as schema, table_name as name from information_schema.columns
      where column_name = 'workspace_id' and table_schema in ('hub', 'canonical') and table_name <> 'workspaces'
        and (table_schema, table_name) in (select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE')`;
    // Children first: tables others reference go last.
    const order = ['webhook_attempts', 'webhook_deliveries', 'events', 'webhook_endpoints', 'api_keys'];
    tables.sort((x, y) => order.indexOf(y.name) - order.indexOf(x.name));
    for (const table of tables.filter((entry) => entry.name !== 'connections')) await tx`delete from ${tx(`${table.schema}.${table.name}`)} where workspace_id = ${workspaceId}`;
    await tx`delete from hub.connections where workspace_id = ${workspaceId}`;
    await tx`delete from hub.workspaces where id = ${workspaceId}`;
  });
}

export function formatEvalReport(report: EvalReport): string {
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const pct = (value: number) => `${(value * 100).toFixed(2)}%`;
  log(`${report.file}: ${report.evaluated} of ${report.records} records reconciled`);
  log(`  precision ${pct(report.precision)}  recall ${pct(report.recall)}  F1 ${report.f1.toFixed(4)}`);
  log(`  clusters ${report.predicted_clusters} (truth ${report.truth_clusters}); pairs: ${report.correct_pairs} correct of ${report.predicted_pairs} predicted, ${report.true_pairs} true`);
  const person = report.reconcile.find((stats) => stats.kind === 'person');
  if (person) log(`  compared ${person.candidate_pairs} pairs of ${person.all_pairs} possible; sync ${report.seconds.sync.toFixed(1)} s, reconcile ${report.seconds.reconcile.toFixed(1)} s`);
  const show = (title: string, examples: EvalReport['worst_misses']) => {
    if (examples.length === 0) return;
    log(`  ${title}:`);
    for (const example of examples) {
      const fields = example.evidence.map((entry) => `${entry.field} ${entry.level} ${entry.weight > 0 ? '+' : ''}${entry.weight}`).join(', ');
      log(`    ${example.a} ~ ${example.b}: score ${example.score} (${fields})`);
    }
  };
  show('worst false merges (highest scores)', report.worst_false_merges);
  show('worst misses (lowest scores)', report.worst_misses);
  return `${lines.join('\n')}\n`;
}
