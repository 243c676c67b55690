import type { CountryCode } from 'libphonenumber-js';
import type { PendingQuery, Row } from 'postgres';
import { z } from 'zod';
import { asJson, copyRows } from '../../db/copy.js';
import type { Sql } from '../../db/index.js';
import { emitEvents } from '../events/batch.js';
import { cluster, pairKey, strongestFirst, type Candidate, type Clustering, type Edge, type PairScorer, type Thresholds } from './cluster.js';
import { goldenId, survive, unionOf, type FieldSource, type MemberFact, type SurvivorshipSettings } from './golden.js';
import {
  blockingKeys, estimate, guardWeights, matchWeight, organizationFeatures, personFeatures, priorParams, scorePair,
  type Features, type Kind, type OrganizationFact, type Params, type PersonFact,
} from './model.js';

// Reconciliation: source people / organizations → golden customers / organizations.
//
// Where the work happens, and why: PostgreSQL streams the facts out and takes the results
// back in bulk (COPY); blocking, scoring and clustering run in TypeScript on the records in
// memory, because a hash map of blocking keys is one pass over the records, while the same
// self-join in SQL materializes every candidate pair before any of them can be scored, and
// scoring (Jaro–Winkler, transliteration keys) is code, not SQL. Incremental runs look up
// candidates through the GIN index on hub.match_records.keys instead of loading everything.

export const RECONCILE_KINDS: Kind[] = ['organization', 'person'];

/** A blocking key shared by more records than this is skipped (and reported): it would cost quadratic time and carries little evidence. */
export const BLOCK_CAP = 60;

export const reconcileSettingsSchema = z.object({
  phone_region: z.string().regex(/^[A-Z]{2}$/).default('RU').describe('Region for phone numbers written without a country code (ISO 3166 alpha-2).'),
  auto_threshold: z.number().default(12).describe('Match weight (log2 Bayes factor) at or above which records merge automatically.'),
  review_threshold: z.number().default(4).describe('Match weight at or above which a pair below auto_threshold goes to the review queue.'),
  guard_threshold: z.number().default(-8).describe('Two clusters never merge while a pair across them scores below this.'),
  survivorship: z.record(z.string(), z.enum(['most_recent', 'most_frequent', 'trusted_source'])).default({}),
  trusted_sources: z.record(z.string(), z.array(z.string())).default({}),
});
export type ReconcileSettings = z.infer<typeof reconcileSettingsSchema>;

export interface ReconcileStats {
  kind: Kind;
  records: number;
  candidate_pairs: number;
  all_pairs: number;
  oversized_blocks: { key: string; records: number }[];
  clusters: number;
  review_candidates: number;
  events: number;
  timings_ms: Record<string, number>;
}

interface Entity {
  features: Features;
  fact: MemberFact;
}

export async function loadSettings(sql: Sql, workspaceId: string): Promise<ReconcileSettings> {
  const [row] = await sql<{ settings: { reconcile?: unknown } }[]>`select settings from hub.workspaces where id = ${workspaceId}`;
  return reconcileSettingsSchema.parse(row?.settings?.reconcile ?? {});
}

const FACT_QUERIES: Record<Kind, (sql: Sql, workspaceId: string, ids?: number[]) => PendingQuery<Row[]>> = {
  person: (sql, workspaceId, ids) => sql`
    select p.source_record_id::int8 as source_record_id, p.connection_id, p.name, p.first_name, p.last_name, p.emails, p.phones, p.organization_name, p.owner,
           p.birth_date, p.address, p.city, p.postal_code, p.national_id, p.updated_at, p.ingested_at,
           ${EXCLUSIVE_SQL(sql)} as exclusive
    from canonical.source_people p join hub.connections c on c.id = p.connection_id
    where p.workspace_id = ${workspaceId} and p.deleted_at is null ${ids ? sql`and p.source_record_id = any(${ids}::bigint[])` : sql``}`,
  organization: (sql, workspaceId, ids) => sql`
    select o.source_record_id::int8 as source_record_id, o.connection_id, o.name, o.domains, o.phones, o.tax_id, o.updated_at, o.ingested_at,
           false as exclusive
    from canonical.source_organizations o
    where o.workspace_id = ${workspaceId} and o.deleted_at is null ${ids ? sql`and o.source_record_id = any(${ids}::bigint[])` : sql``}`,
};

/** Sources whose every record is a distinct client: Stripe customers, HubSpot contacts, or a sheet configured so. */
const EXCLUSIVE_SQL = (sql: Sql) => sql`(c.kind in ('stripe', 'hubspot') or coalesce((c.config->>'distinct_records')::boolean, false))`;

/** Columns only matching reads (a golden record's lists come from the normalized features): not kept per record. */
const MATCHING_ONLY = new Set(['emails', 'phones', 'domains', 'national_id', 'exclusive']);
const NO_VALUES: string[] = Object.freeze([]) as unknown as string[];

/**
 * One instance of each repeated value: a million records name four connections, a few
 * thousand first and last names, and the timestamps of the pages they were written in.
 */
class Interner {
  private strings = new Map<string, string>();
  private dates = new Map<number, Date>();

  string<T extends string | undefined>(value: T): T {
    if (value === undefined) return value;
    const known = this.strings.get(value);
    if (known !== undefined) return known as T;
    this.strings.set(value, value);
    return value;
  }

  date(value: Date): Date {
    const known = this.dates.get(value.getTime());
    if (known) return known;
    this.dates.set(value.getTime(), value);
    return value;
  }
}

function toEntity(kind: Kind, row: Record<string, any>, region: CountryCode, interner = new Interner()): Entity {
  row.source_record_id = Number(row.source_record_id);
  row.connection_id = interner.string(row.connection_id);
  const features = kind === 'person' ? personFeatures(row as PersonFact, region, row.exclusive) : organizationFeatures(row as OrganizationFact, region);
  for (const list of ['emails', 'phones', 'domains'] as const) if (features[list].length === 0) features[list] = NO_VALUES;
  if (features.first) {
    features.first = interner.string(features.first);
    features.firstKey = interner.string(features.firstKey);
  }
  if (features.last) {
    features.last = interner.string(features.last);
    features.lastKey = interner.string(features.lastKey);
  }
  const fact: Record<string, unknown> = {};
  for (const column in row) {
    if (MATCHING_ONLY.has(column)) continue;
    const value = row[column];
    fact[column] = value instanceof Date ? interner.date(value) : value;
  }
  return { features, fact: fact as MemberFact };
}

async function loadModel(sql: Sql, workspaceId: string, kind: Kind): Promise<Params | undefined> {
  const [row] = await sql<{ params: Params }[]>`select params from hub.match_models where workspace_id = ${workspaceId} and kind = ${kind}`;
  return row?.params;
}

interface Overrides {
  must: [number, number][];
  cannot: Set<string>;
}

/** Admin overrides replayed in order: per record pair the latest word (must or cannot) wins. */
async function loadOverrides(sql: Sql, workspaceId: string, kind: Kind, ids?: number[]): Promise<Overrides> {
  const rows = await sql<{ record_a: string; record_b: string; link: 'must' | 'cannot' }[]>`
    select record_a, record_b, link from hub.match_overrides
    where workspace_id = ${workspaceId} and kind = ${kind}
      ${ids ? sql`and (record_a = any(${ids}::bigint[]) or record_b = any(${ids}::bigint[]))` : sql``}
    order by id`;
  const last = new Map<string, { a: number; b: number; link: 'must' | 'cannot' }>();
  for (const row of rows) last.set(pairKey(Number(row.record_a), Number(row.record_b)), { a: Number(row.record_a), b: Number(row.record_b), link: row.link });
  const overrides: Overrides = { must: [], cannot: new Set() };
  for (const [key, entry] of [...last.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
    if (entry.link === 'must') overrides.must.push([entry.a, entry.b]);
    else overrides.cannot.add(key);
  }
  return overrides;
}

const thresholdsOf = (settings: ReconcileSettings): Thresholds => ({ auto: settings.auto_threshold, review: settings.review_threshold, guard: settings.guard_threshold });

/**
 * Full run of one kind: every live record is re-read, re-blocked, re-scored and
 * re-clustered. With `train`, m/u are re-estimated from the data first (also when the
 * workspace has no model yet); otherwise the stored model is used, so a full run and
 * incremental runs agree.
 */
export async function reconcileFull(sql: Sql, workspaceId: string, kind: Kind, options: { train?: boolean } = {}): Promise<ReconcileStats> {
  // One transaction holding the kind's lock: incremental jobs wait, then re-apply their changes on top.
  return sql.begin(async (tx) => reconcileFullIn(tx as unknown as Sql, workspaceId, kind, options)) as Promise<ReconcileStats>;
}

async function reconcileFullIn(sql: Sql, workspaceId: string, kind: Kind, options: { train?: boolean } = {}): Promise<ReconcileStats> {
  await lockKind(sql, workspaceId, kind);
  const { timings, lap } = stopwatch();
  const settings = await loadSettings(sql, workspaceId);
  const region = settings.phone_region as CountryCode;

  const entities: Entity[] = [];
  const interner = new Interner();
  for await (const rows of FACT_QUERIES[kind](sql, workspaceId).cursor(5000)) {
    for (const row of rows) entities.push(toEntity(kind, row, region, interner));
  }
  entities.sort((x, y) => x.features.id - y.features.id);
  lap('load_and_normalize');

  const { pairCodes, oversized } = candidatePairs(kind, entities);
  const n = entities.length;
  const pairAt = (index: number): [number, number] => {
    const code = pairCodes[index];
    const i = Math.floor(code / n);
    return [i, code - i * n];
  };
  lap('block');

  const stored = options.train ? undefined : await loadModel(sql, workspaceId, kind);
  const overrides = await loadOverrides(sql, workspaceId, kind);
  // The match records go to PostgreSQL while the pairs are scored and clustered: indexing them
  // (their keys' GIN index is most of it) runs on the database's core in the meantime. Until
  // they are in, the transaction's connection is theirs: nothing else is sent before.
  await sql`delete from hub.match_records where workspace_id = ${workspaceId} and kind = ${kind}`;
  const matchRecordsWritten = copyRows(sql, 'hub.match_records', ['source_record_id', 'workspace_id', 'kind', 'features', 'keys'], (function* () {
    for (const { features } of entities) yield [features.id, workspaceId, kind, asJson(features), blockingKeys(kind, features)];
  })());
  matchRecordsWritten.catch(() => undefined);
  let params = stored;
  if (!params) {
    // m is estimated from the candidate pairs: a spread sample of 300,000 is plenty.
    const step = Math.max(1, Math.floor(pairCodes.length / 300_000));
    const sample: [Features, Features][] = [];
    for (let index = 0; index < pairCodes.length; index += step) {
      const [i, j] = pairAt(index);
      sample.push([entities[i].features, entities[j].features]);
    }
    params = estimate(kind, entities.map((entity) => entity.features), sample);
  }
  lap('train');

  const edges: Edge[] = [];
  const breathe = breather();
  for (let index = 0; index < pairCodes.length; index++) {
    if ((index & 0x3fff) === 0) await breathe();
    const code = pairCodes[index];
    const i = Math.floor(code / n);
    const left = entities[i].features;
    const right = entities[code - i * n].features;
    const weight = matchWeight(kind, params, left, right);
    if (weight >= settings.review_threshold) edges.push({ a: left.id, b: right.id, weight });
  }
  lap('score');

  const byId = new Map(entities.map((entity) => [entity.features.id, entity]));
  const clustering = clusterWith(kind, params, settings, [...byId.keys()], edges, overrides, byId);
  edges.length = 0;
  lap('cluster');

  await matchRecordsWritten;
  await sql`delete from hub.match_oversized_keys where workspace_id = ${workspaceId} and kind = ${kind}`;
  await copyRows(sql, 'hub.match_oversized_keys', ['workspace_id', 'kind', 'key'], oversized.map((block) => [workspaceId, kind, block.key]));
  // Fold the GIN index's pending list into the index now: left as it is, every incremental
  // lookup would scan it whole (1,000 new records against 100,000 took a minute).
  await sql`select gin_clean_pending_list('hub.match_records_keys_idx'::regclass)`;
  // Rewritten whole: statistics now, or the next lookups by workspace plan on the old ones.
  await sql`analyze hub.match_records`;
  if (!stored) {
    await sql`insert into hub.match_models (workspace_id, kind, params) values (${workspaceId}, ${kind}, ${sql.json(params as never)})
              on conflict (workspace_id, kind) do update set params = excluded.params, trained_at = now()`;
  }
  lap('write_match_records');
  const events = await writeClusters(sql, workspaceId, kind, byId, clustering, { all: true, params, settings, lap });
  // Rewritten whole: statistics now, not when autovacuum gets to them, or the next sync page
  // plans its cluster-mates join blind (3 s for the first page after a million-record run).
  const golden = GOLDEN[kind];
  await sql.unsafe(`analyze ${golden.links}`);
  await sql.unsafe(`analyze ${golden.table}`);
  lap('analyze');
  return {
    kind, records: entities.length, candidate_pairs: pairCodes.length, all_pairs: (n * (n - 1)) / 2, oversized_blocks: oversized.sort((x, y) => y.records - x.records).slice(0, 20),
    clusters: new Set(clustering.anchorOf.values()).size, review_candidates: clustering.candidates.length, events, timings_ms: timings,
  };
}

/** Lets pending I/O (a COPY being fed) run between slices of a long computation, about every 20 ms. */
function breather(): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < 20) return;
    await new Promise((resolve) => setImmediate(resolve));
    last = performance.now();
  };
}

/**
 * Blocking: the pairs of records (by index) that share a blocking key, each once, as sorted
 * numeric codes i·n + j in a Float64Array (8 bytes a pair, where a Set and [i, j] arrays cost
 * ~100: a million records make ~13M pairs), and the keys skipped as oversized.
 */
function candidatePairs(kind: Kind, entities: Entity[]): { pairCodes: Float64Array; oversized: { key: string; records: number }[] } {
  const blocks = new Map<string, number[]>();
  for (let index = 0; index < entities.length; index++) {
    for (const key of blockingKeys(kind, entities[index].features)) {
      const block = blocks.get(key);
      if (block) block.push(index);
      else blocks.set(key, [index]);
    }
  }
  const oversized: { key: string; records: number }[] = [];
  const n = entities.length;
  let codes = new Float64Array(1 << 16);
  let count = 0;
  for (const [key, block] of blocks) {
    if (block.length < 2) continue;
    if (block.length > BLOCK_CAP) {
      oversized.push({ key, records: block.length });
      continue;
    }
    for (let i = 0; i < block.length; i++) {
      for (let j = i + 1; j < block.length; j++) {
        if (count === codes.length) {
          const grown = new Float64Array(codes.length * 2);
          grown.set(codes);
          codes = grown;
        }
        codes[count++] = block[i] * n + block[j];
      }
    }
  }
  blocks.clear();
  const sorted = codes.subarray(0, count).sort();
  let unique = 0;
  for (let index = 0; index < count; index++) if (index === 0 || sorted[index] !== sorted[index - 1]) sorted[unique++] = sorted[index];
  return { pairCodes: sorted.subarray(0, unique), oversized };
}

function clusterWith(kind: Kind, params: Params, settings: ReconcileSettings, ids: number[], edges: Edge[], overrides: Overrides, byId: Map<number, Entity>): Clustering {
  const scorer: PairScorer = {
    weight: (a, b) => matchWeight(kind, params, byId.get(a)!.features, byId.get(b)!.features),
    guard: (a, b) => guardWeights(kind, params, byId.get(a)!.features, byId.get(b)!.features),
    evidence: (a, b) => scorePair(kind, params, byId.get(a)!.features, byId.get(b)!.features, true).evidence,
  };
  return cluster(ids, edges, overrides, (id) => byId.get(id)?.features.exclusive, thresholdsOf(settings), scorer);
}

/** Milliseconds per step since the previous lap; a step timed again (a loop's) adds up. */
function stopwatch(): { timings: Record<string, number>; lap: (step: string) => void } {
  const timings: Record<string, number> = {};
  let started = performance.now();
  return {
    timings,
    lap: (step) => {
      const now = performance.now();
      timings[step] = (timings[step] ?? 0) + Math.round(now - started);
      started = now;
    },
  };
}

/** One reconcile of a kind at a time per workspace (full or incremental). */
async function lockKind(tx: Sql, workspaceId: string, kind: Kind): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtext(${`reconcile:${workspaceId}:${kind}`}))`;
}

const GOLDEN_COLUMNS: Record<Kind, string[]> = {
  person: ['name', 'emails', 'phones', 'organization_name', 'owner', 'birth_date', 'address', 'city', 'postal_code'],
  organization: ['name', 'domains', 'phones', 'tax_id'],
};

/** What a golden record states (fields, their sources, its records): an event says "updated" only when this changes. */
function signature(values: unknown[], sources: unknown, members: number[]): string {
  return stableStringify([values, sources, members]);
}

function stableStringify(value: unknown): string {
  if (value === null || value === undefined || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableStringify(item)}`).join(',')}}`;
}

const GOLDEN = {
  person: { table: 'canonical.customers', links: 'canonical.customer_links', idColumn: 'customer_id', event: 'customer' },
  organization: { table: 'canonical.organizations', links: 'canonical.organization_links', idColumn: 'organization_id', event: 'organization' },
} as const;

interface GoldenRow {
  id: string;
  anchor: number;
  members: number[];
  fields: Record<string, unknown>;
  sources: Record<string, FieldSource>;
  firstSeenAt: Date;
}

function buildGolden(workspaceId: string, kind: Kind, anchor: number, members: Entity[], settings: ReconcileSettings): GoldenRow {
  const facts = members.map((member) => member.fact);
  const survivorship: SurvivorshipSettings = { rules: settings.survivorship, trusted: settings.trusted_sources };
  const fields: Record<string, unknown> = {};
  const sources: Record<string, FieldSource> = {};
  const single = kind === 'person'
    ? ['name', 'organization_name', 'owner', 'birth_date', 'address', 'city', 'postal_code']
    : ['name', 'tax_id'];
  for (const field of single) {
    const survived = survive(field, facts, survivorship);
    fields[field] = survived?.value ?? null;
    if (survived) sources[field] = survived.source;
  }
  if (kind === 'person' && !fields.name) {
    // A record with only first/last names still gives the customer a name.
    const named = facts.find((fact) => fact.first_name || fact.last_name);
    if (named) {
      fields.name = [named.first_name, named.last_name].filter(Boolean).join(' ');
      sources.name = { source_record_id: named.source_record_id, connection_id: named.connection_id, rule: 'most_recent' };
    }
  }
  const lists = kind === 'person' ? { emails: (e: Entity) => e.features.emails, phones: (e: Entity) => e.features.phones } : { domains: (e: Entity) => e.features.domains, phones: (e: Entity) => e.features.phones };
  for (const [field, get] of Object.entries(lists)) {
    fields[field] = unionOf(members.map(get));
    const first = members.find((member) => get(member).length > 0);
    if (first) sources[field] = { source_record_id: first.features.id, connection_id: first.features.connection, rule: 'union' };
  }
  return {
    id: goldenId(workspaceId, kind, anchor),
    anchor,
    members: members.map((member) => member.features.id).sort((x, y) => x - y),
    fields,
    sources,
    firstSeenAt: new Date(facts.reduce((first, fact) => Math.min(first, new Date(fact.ingested_at).getTime()), Infinity)),
  };
}

/**
 * Replaces the golden records touching `byId`'s records (all of the kind with `all`) by the
 * clustering's, keeps links and the review queue in step, and emits one event per change:
 * created, updated, merged (an id absorbed into another) or split (a cluster that lost
 * records to new ones). Returns the number of events.
 */
async function writeClusters(
  tx: Sql, workspaceId: string, kind: Kind, byId: Map<number, Entity>, clustering: Clustering,
  scope: { all: boolean; params: Params; settings: ReconcileSettings; extraCandidates?: Edge[]; removed?: number[]; lap?: (step: string) => void },
): Promise<number> {
  const golden = GOLDEN[kind];
  const lap = scope.lap ?? (() => undefined);
  const touched = scope.all ? [] : [...byId.keys(), ...(scope.removed ?? [])];

  // After.
  const groups = new Map<number, Entity[]>();
  for (const [id, anchor] of clustering.anchorOf) {
    const group = groups.get(anchor);
    if (group) group.push(byId.get(id)!);
    else groups.set(anchor, [byId.get(id)!]);
  }
  const rows: GoldenRow[] = [];
  for (const [anchor, members] of groups) rows.push(buildGolden(workspaceId, kind, anchor, members, scope.settings));
  groups.clear();
  const newIds = new Set(rows.map((row) => row.id));

  // Before: which golden record held each touched record, and what those of its records that
  // keep their id stated (an event says "updated" only when that changes).
  const before = await tx.unsafe<{ source_record_id: string; golden_id: string }[]>(
    scope.all
      ? `select source_record_id, ${golden.idColumn} as golden_id from ${golden.links} where workspace_id = $1`
      : `select source_record_id, ${golden.idColumn} as golden_id from ${golden.links} where workspace_id = $1 and source_record_id = any($2::bigint[])`,
    scope.all ? [workspaceId] : [workspaceId, touched as never],
  );
  const oldGoldenOf = new Map(before.map((row) => [Number(row.source_record_id), row.golden_id]));
  const oldIds = [...new Set(oldGoldenOf.values())];
  const kept = oldIds.filter((id) => newIds.has(id));
  const goldenColumns = GOLDEN_COLUMNS[kind];
  let oldRows: Record<string, any>[] = [];
  if (kept.length > 0 && scope.all) {
    // Every link of the workspace is in `before`: the members come from there.
    const membersOf = new Map<string, number[]>();
    for (const [record, id] of oldGoldenOf) {
      const members = membersOf.get(id);
      if (members) members.push(record);
      else membersOf.set(id, [record]);
    }
    oldRows = await tx.unsafe<Record<string, any>[]>(
      `select g.id, g.created_at, g.sources, ${goldenColumns.map((column) => `g.${column}`).join(', ')} from ${golden.table} g where g.workspace_id = $1`,
      [workspaceId],
    );
    oldRows = oldRows.filter((row) => newIds.has(row.id));
    for (const row of oldRows) row.members = (membersOf.get(row.id) ?? []).sort((x, y) => x - y);
  } else if (kept.length > 0) {
    oldRows = await tx.unsafe<Record<string, any>[]>(
      `select g.id, g.created_at, g.sources, ${goldenColumns.map((column) => `g.${column}`).join(', ')},
              array(select l.source_record_id from ${golden.links} l where l.${golden.idColumn} = g.id order by 1) as members
       from ${golden.table} g where g.id = any($1::uuid[])`,
      [kept as never],
    );
    for (const row of oldRows) row.members = (row.members as string[]).map(Number);
  }
  const oldSignature = new Map(oldRows.map((row) => [row.id as string, signature(goldenColumns.map((column) => row[column]), row.sources, row.members)]));
  const createdAt = new Map(oldRows.map((row) => [row.id as string, row.created_at as Date]));
  oldRows = [];
  lap('golden_read');

  // Write: drop what was there for these records, then COPY the new state in.
  if (scope.all) {
    await tx.unsafe(`delete from ${golden.links} where workspace_id = $1`, [workspaceId]);
    await tx.unsafe(`delete from ${golden.table} where workspace_id = $1`, [workspaceId]);
    await tx`delete from hub.match_candidates where workspace_id = ${workspaceId} and kind = ${kind}`;
  } else {
    await tx.unsafe(`delete from ${golden.links} where source_record_id = any($1::bigint[])`, [touched as never]);
    await tx.unsafe(`delete from ${golden.table} where id = any($1::uuid[])`, [oldIds as never]);
    await tx`delete from hub.match_candidates where workspace_id = ${workspaceId} and kind = ${kind} and (record_a = any(${touched}::bigint[]) or record_b = any(${touched}::bigint[]))`;
  }
  lap('golden_delete');
  const now = new Date();
  await copyRows(tx, golden.table, ['id', 'workspace_id', 'anchor_record_id', ...goldenColumns, 'sources', 'record_count', 'first_seen_at', 'created_at', 'updated_at'],
    rows.map((row) => [row.id, workspaceId, row.anchor, ...goldenColumns.map((column) => row.fields[column] ?? null), asJson(row.sources), row.members.length, row.firstSeenAt, createdAt.get(row.id) ?? now, now]));
  lap('golden_copy');
  const explain = (a: number, b: number) => {
    const left = byId.get(a)?.features;
    const right = byId.get(b)?.features;
    return left && right ? scorePair(kind, scope.params, left, right, true).evidence : [];
  };
  const goldenOfAnchor = new Map(rows.map((row) => [row.anchor, row.id]));
  await copyRows(tx, golden.links, ['source_record_id', 'workspace_id', 'connection_id', 'self_id', golden.idColumn, 'rule', 'score', 'evidence', 'linked_by', 'linked_at'], (function* () {
    for (const [id, anchor] of clustering.anchorOf) {
      const link = clustering.links.get(id)!;
      const goldenOfRecord = goldenOfAnchor.get(anchor)!;
      const self = id === anchor ? goldenOfRecord : goldenId(workspaceId, kind, id);
      yield [id, workspaceId, byId.get(id)!.features.connection, self, goldenOfRecord, link.rule, link.score, asJson(link.evidence ?? (link.with === undefined ? null : explain(id, link.with))), link.rule === 'admin' ? 'admin' : 'auto', now];
    }
  })());

  lap('links_copy');
  // The review queue. A full run's candidates are distinct pairs already; an incremental run
  // adds the pairs leaving its component, the last word on a pair kept (as a Map would).
  const candidates = (function* (): Generator<Candidate> {
    for (const candidate of clustering.candidates) yield { ...candidate, evidence: candidate.evidence ?? explain(candidate.a, candidate.b) };
    for (const edge of scope.extraCandidates ?? []) yield { ...edge, reason: 'review_band' };
  })();
  const distinct = scope.extraCandidates?.length ? new Map([...candidates].map((candidate) => [pairKey(candidate.a, candidate.b), candidate])).values() : candidates;
  await copyRows(tx, 'hub.match_candidates', ['workspace_id', 'kind', 'record_a', 'record_b', 'score', 'reason', 'evidence'], (function* () {
    for (const candidate of distinct) yield [workspaceId, kind, Math.min(candidate.a, candidate.b), Math.max(candidate.a, candidate.b), candidate.weight, candidate.reason, asJson(candidate.evidence)];
  })());

  lap('candidates_copy');
  if (kind === 'person') await linkCustomersToOrganizations(tx, workspaceId, { customerIds: scope.all ? undefined : [...newIds] });
  else await linkCustomersToOrganizations(tx, workspaceId, { recordIds: scope.all ? undefined : touched });

  lap('organizations');
  const newSignature = new Map<string, string>();
  for (const row of rows) if (oldSignature.has(row.id)) newSignature.set(row.id, signature(goldenColumns.map((column) => row.fields[column] ?? null), row.sources, row.members));
  const events = await emitChanges(tx, workspaceId, kind, rows, oldGoldenOf, oldSignature, newSignature, newIds);
  lap('events');
  return events;
}

/** A customer's organization: the golden organization most of its records' organization facts belong to. */
async function linkCustomersToOrganizations(tx: Sql, workspaceId: string, scope: { customerIds?: string[]; recordIds?: number[] }): Promise<void> {
  const customers = (column: PendingQuery<Row[]>) => (scope.customerIds
    ? tx`and ${column} = any(${scope.customerIds}::uuid[])`
    : scope.recordIds
      ? tx`and ${column} in (select customer_id from canonical.customer_links where source_record_id = any(${scope.recordIds}::bigint[]))`
      : tx``);
  // Set-based: every customer's count per organization at once, the largest (then the
  // smallest id) kept; customers left without one go back to none.
  await tx`
    with counted as (
      select cl.customer_id, ol.organization_id, count(*) as records
      from canonical.customer_links cl join canonical.organization_links ol on ol.source_record_id = cl.source_record_id
      where cl.workspace_id = ${workspaceId} ${customers(tx`cl.customer_id`)}
      group by cl.customer_id, ol.organization_id
    ), best as (
      select distinct on (customer_id) customer_id, organization_id from counted order by customer_id, records desc, organization_id
    )
    update canonical.customers c set organization_id = chosen.organization_id
    from (
      select scoped.id, best.organization_id
      from canonical.customers scoped left join best on best.customer_id = scoped.id
      where scoped.workspace_id = ${workspaceId} ${customers(tx`scoped.id`)}
    ) chosen
    where c.id = chosen.id and c.organization_id is distinct from chosen.organization_id`;
}

async function emitChanges(
  tx: Sql, workspaceId: string, kind: Kind, rows: GoldenRow[], oldGoldenOf: Map<number, string>, oldSignature: Map<string, string>, newSignature: Map<string, string>, newIds: Set<string>,
): Promise<number> {
  const golden = GOLDEN[kind];
  const newRows = new Map(rows.map((row) => [row.id, row]));
  const events: { type: string; id: string; data: Record<string, unknown> }[] = [];
  const absorbedInto = new Map<string, Set<string>>();
  const splitFrom = new Map<string, Set<string>>();
  for (const row of rows) {
    for (const member of row.members) {
      const previous = oldGoldenOf.get(member);
      if (!previous || previous === row.id) continue;
      if (!newIds.has(previous)) {
        const absorbed = absorbedInto.get(row.id) ?? new Set();
        absorbed.add(previous);
        absorbedInto.set(row.id, absorbed);
      } else {
        const parts = splitFrom.get(previous) ?? new Set();
        parts.add(row.id);
        splitFrom.set(previous, parts);
      }
    }
  }
  const absorbedAnywhere = new Set([...absorbedInto.values()].flatMap((absorbed) => [...absorbed]));
  const splitOff = new Set([...splitFrom.values()].flatMap((parts) => [...parts]));
  const vanished = [...new Set(oldGoldenOf.values())].filter((id) => !newIds.has(id) && !absorbedAnywhere.has(id));
  for (const row of rows) {
    const existed = oldSignature.has(row.id);
    const absorbed = absorbedInto.get(row.id);
    if (absorbed) events.push({ type: `${golden.event}.merged`, id: row.id, data: { [golden.event]: present(kind, row), absorbed_ids: [...absorbed].sort() } });
    else if (!existed && !splitOff.has(row.id)) events.push({ type: `${golden.event}.created`, id: row.id, data: { [golden.event]: present(kind, row) } });
    else if (existed && oldSignature.get(row.id) !== newSignature.get(row.id) && !splitFrom.has(row.id)) events.push({ type: `${golden.event}.updated`, id: row.id, data: { [golden.event]: present(kind, row) } });
  }
  for (const [from, parts] of splitFrom) {
    const all = [from, ...[...parts].sort()].filter((id) => newRows.has(id));
    events.push({ type: `${golden.event}.split`, id: from, data: { [`${golden.event}_id`]: from, into: all.map((id) => present(kind, newRows.get(id)!)) } });
  }
  for (const id of vanished) events.push({ type: `${golden.event}.updated`, id, data: { [`${golden.event}_id`]: id, deleted: true } });
  await emitEvents(tx, events.map((event) => ({ workspaceId, type: event.type, subject: `${golden.event}:${event.id}`, data: event.data })));
  return events.length;
}

function present(kind: Kind, row: GoldenRow) {
  return { id: row.id, ...row.fields, sources: row.sources, source_record_ids: row.members, record_count: row.members.length };
}

/**
 * Incremental run: brings the golden records up to date with the given changed records
 * (new, changed or tombstoned) without a full pass. It re-clusters exactly the connected
 * component of the candidate graph (edges at or above auto-merge, admin must-links, and
 * the records' previous clusters) that the changes touch — the clustering of a component
 * depends on nothing outside it, so the result equals a full run's.
 */
export async function reconcileIncremental(tx: Sql, workspaceId: string, kind: Kind, changedIds: number[]): Promise<{ records: number; events: number; timings_ms: Record<string, number> }> {
  const { timings, lap } = stopwatch();
  if (changedIds.length === 0) return { records: 0, events: 0, timings_ms: timings };
  await lockKind(tx, workspaceId, kind);
  const params = await loadModel(tx, workspaceId, kind);
  if (!params) {
    // No model yet: this workspace has never been reconciled; a full run trains one.
    const stats = await reconcileFullIn(tx, workspaceId, kind, { train: true });
    return { records: stats.records, events: stats.events, timings_ms: stats.timings_ms };
  }
  const settings = await loadSettings(tx, workspaceId);
  const region = settings.phone_region as CountryCode;
  const golden = GOLDEN[kind];

  // 1. Refresh the matching features of the changed records.
  const live = (await FACT_QUERIES[kind](tx, workspaceId, changedIds)).map((row) => toEntity(kind, row as Record<string, any>, region));
  const liveIds = new Set(live.map((entity) => entity.features.id));
  const removed = changedIds.filter((id) => !liveIds.has(id));
  // A changed or removed record may leave its old keys' blocks: they may no longer be oversized.
  await tx`
    delete from hub.match_oversized_keys o
    using (select distinct unnest(keys) as key from hub.match_records where source_record_id = any(${changedIds}::bigint[]) and kind = ${kind}) old
    where o.workspace_id = ${workspaceId} and o.kind = ${kind} and o.key = old.key`;
  if (removed.length > 0) await tx`delete from hub.match_records where source_record_id = any(${removed}::bigint[]) and kind = ${kind}`;
  if (live.length > 0) {
    await tx`
      insert into hub.match_records (source_record_id, workspace_id, kind, features, keys)
      select * from jsonb_to_recordset(${tx.json(live.map((entity) => ({ source_record_id: entity.features.id, workspace_id: workspaceId, kind, features: entity.features, keys: blockingKeys(kind, entity.features) })) as never)})
        as t(source_record_id bigint, workspace_id uuid, kind text, features jsonb, keys text[])
      on conflict (source_record_id, kind) do update set features = excluded.features, keys = excluded.keys`;
  }

  // The records just written sit in the GIN index's pending list, which every lookup below
  // would scan whole, once per key: fold it into the index first (a few ms for a page).
  await tx`select gin_clean_pending_list('hub.match_records_keys_idx'::regclass)`;
  lap('features');

  // 2. Grow the affected set to its closed component.
  const features = new Map<number, Features>();
  const keys = new Map<number, string[]>();
  const inSet = new Set<number>();
  let frontier: number[] = [];
  const add = (id: number) => {
    if (inSet.has(id)) return;
    inSet.add(id);
    frontier.push(id);
  };
  const oldClusterMates = async (ids: number[]) => {
    if (ids.length === 0) return [];
    const rows = await tx.unsafe<{ source_record_id: string }[]>(
      `select l2.source_record_id from ${golden.links} l1 join ${golden.links} l2 on l2.${golden.idColumn} = l1.${golden.idColumn} where l1.source_record_id = any($1::bigint[])`,
      [ids as never],
    );
    return rows.map((row) => Number(row.source_record_id));
  };
  for (const id of changedIds) add(id);
  for (const id of await oldClusterMates(changedIds)) add(id);
  const edges = new Map<string, Edge>();
  const outside: Edge[] = [];
  const overrides = await loadOverrides(tx, workspaceId, kind);

  while (frontier.length > 0) {
    const batch = frontier;
    frontier = [];
    await loadFeatures(tx, kind, batch.filter((id) => !features.has(id)), features, keys);
    const live = batch.filter((id) => features.has(id));
    const batchKeys = [...new Set(live.flatMap((id) => keys.get(id)!))];
    if (batchKeys.length === 0) continue;
    // Block sizes: one GIN lookup per key (a join: `k = any(batch)` compared every key of every
    // record against the whole batch), counted only up to the cap: a common first name's block
    // holds tens of thousands of records at a million, and counting them was 9 s of a page.
    // Identifier keys (an email, a phone, an id) make small blocks: their members are fetched
    // with the rest and counted here, which spares a lookup per key (2.6 s of a page at a
    // million). Name keys can hold tens of thousands: counted in the database, up to the cap.
    const direct = batchKeys.filter(isIdentifierKey);
    const nameKeys = batchKeys.filter((key) => !isIdentifierKey(key));
    // Keys known to be oversized (a full run found them so, or an earlier page) need no count.
    const known = new Set((await tx<{ key: string }[]>`
      select key from hub.match_oversized_keys where workspace_id = ${workspaceId} and kind = ${kind} and key = any(${nameKeys}::text[])`).map((row) => row.key));
    const counted = nameKeys.filter((key) => !known.has(key));
    const sizes = counted.length === 0 ? [] : await tx<{ key: string; records: number }[]>`
      select w.key, c.records
      from (select distinct unnest(${counted}::text[]) as key) w
      cross join lateral (
        select count(*)::int as records from (
          select 1 from hub.match_records m
          where m.keys @> array[w.key] and m.workspace_id::text = ${workspaceId} and m.kind || '' = ${kind}
          limit ${BLOCK_CAP + 1}) capped) c`;
    const usable = [...sizes.filter((row) => row.records >= 2 && row.records <= BLOCK_CAP).map((row) => row.key), ...direct];
    const oversized = sizes.filter((row) => row.records > BLOCK_CAP).map((row) => row.key);
    if (oversized.length > 0) {
      await tx`insert into hub.match_oversized_keys (workspace_id, kind, key) select ${workspaceId}, ${kind}, unnest(${oversized}::text[]) on conflict do nothing`;
    }
    lap('block_sizes');
    if (usable.length === 0) continue;
    // Through the GIN index, from the posting lists of exactly these keys. The planner cannot
    // estimate `keys && <thousands of keys>`: left to choose, it read every record of the
    // workspace through the (workspace, kind) index and tested each one's keys against the
    // array (11 s at 100,000 records, against 0.2 s). Hence workspace and kind written so no
    // index serves them, and no sequential scan for this statement.
    await tx`set local enable_seqscan = off`;
    const found = await tx<{ source_record_id: string; features: Features; keys: string[] }[]>`
      select source_record_id, features, keys from hub.match_records
      where keys && ${usable}::text[] and workspace_id::text = ${workspaceId} and kind || '' = ${kind}`;
    await tx`set local enable_seqscan = on`;
    lap('block_members');
    for (const row of found) {
      const id = Number(row.source_record_id);
      if (!features.has(id)) {
        features.set(id, row.features);
        keys.set(id, row.keys);
      }
    }
    // An identifier key shared by more records than the cap is skipped, as a full run skips it.
    const directSizes = new Map<string, number>(direct.map((key) => [key, 0]));
    for (const row of found) for (const key of row.keys) if (directSizes.has(key)) directSizes.set(key, directSizes.get(key)! + 1);
    const usableSet = new Set(usable.filter((key) => !directSizes.has(key) || directSizes.get(key)! <= BLOCK_CAP));
    // key → records holding it, so each record meets only its own blocks' members.
    const byKey = new Map<string, number[]>();
    for (const row of found) {
      for (const key of row.keys) {
        if (!usableSet.has(key)) continue;
        const members = byKey.get(key);
        if (members) members.push(Number(row.source_record_id));
        else byKey.set(key, [Number(row.source_record_id)]);
      }
    }
    const pulled: number[] = [];
    for (const id of live) {
      for (const key of keys.get(id)!) {
        for (const other of byKey.get(key) ?? []) {
          if (other === id || edges.has(pairKey(id, other))) continue;
          const { weight } = scorePair(kind, params, features.get(id)!, features.get(other)!);
          const edge = { a: Math.min(id, other), b: Math.max(id, other), weight };
          edges.set(pairKey(id, other), edge);
          if (weight >= settings.auto_threshold && !inSet.has(other)) pulled.push(other);
        }
      }
    }
    for (const [a, b] of overrides.must) {
      if (inSet.has(a) && !inSet.has(b)) pulled.push(b);
      if (inSet.has(b) && !inSet.has(a)) pulled.push(a);
    }
    lap('score');
    for (const id of pulled) add(id);
    for (const id of await oldClusterMates(pulled)) add(id);
    lap('cluster_mates');
  }

  // 3. Re-cluster the component and write it back.
  const members = [...inSet].filter((id) => features.has(id));
  const facts = members.length === 0 ? [] : (await FACT_QUERIES[kind](tx, workspaceId, members)).map((row) => toEntity(kind, row as Record<string, any>, region));
  const byId = new Map(facts.map((entity) => [entity.features.id, entity]));
  const inside: Edge[] = [];
  for (const edge of edges.values()) {
    if (edge.weight < settings.review_threshold) continue;
    if (byId.has(edge.a) && byId.has(edge.b)) inside.push(edge);
    else outside.push(edge);
  }
  lap('facts');
  const clustering = clusterWith(kind, params, settings, [...byId.keys()].sort((x, y) => x - y), inside, overrides, byId);
  lap('cluster');
  const gone = [...inSet].filter((id) => !byId.has(id));
  const extraCandidates = await reviewAcross(tx, kind, outside, clustering, byId, overrides);
  for (const edge of extraCandidates) edge.evidence = scorePair(kind, params, features.get(edge.a)!, features.get(edge.b)!, true).evidence;
  lap('review_across');
  const events = await writeClusters(tx, workspaceId, kind, byId, clustering, { all: false, params, settings, extraCandidates, removed: gone, lap });
  return { records: byId.size, events, timings_ms: timings };
}

/**
 * The review-band pairs leaving a re-clustered component, as a full run would queue them: one
 * per pair of clusters (a cluster of the component, a golden record outside it), the strongest.
 */
async function reviewAcross(tx: Sql, kind: Kind, outside: Edge[], clustering: Clustering, byId: Map<number, Entity>, overrides: Overrides): Promise<Edge[]> {
  if (outside.length === 0) return [];
  const golden = GOLDEN[kind];
  const outer = [...new Set(outside.map((edge) => (byId.has(edge.a) ? edge.b : edge.a)))];
  const rows = await tx.unsafe<{ source_record_id: string; golden_id: string }[]>(
    `select source_record_id, ${golden.idColumn} as golden_id from ${golden.links} where source_record_id = any($1::bigint[])`, [outer as never]);
  const goldenOf = new Map(rows.map((row) => [Number(row.source_record_id), row.golden_id]));
  const sorted = [...outside].sort(strongestFirst);
  const asked = new Set<string>();
  const kept: Edge[] = [];
  for (const edge of sorted) {
    if (overrides.cannot.size > 0 && overrides.cannot.has(pairKey(edge.a, edge.b))) continue;
    const inner = byId.has(edge.a) ? edge.a : byId.has(edge.b) ? edge.b : undefined;
    if (inner === undefined) {
      kept.push({ ...edge });
      continue;
    }
    const other = inner === edge.a ? edge.b : edge.a;
    const clusters = `${clustering.anchorOf.get(inner)}|${goldenOf.get(other) ?? `record ${other}`}`;
    if (asked.has(clusters)) continue;
    asked.add(clusters);
    kept.push({ ...edge });
  }
  return kept;
}

/** Keys of a single identifier (email, phone, national or tax id, email local part). */
const isIdentifierKey = (key: string) => key.startsWith('e:') || key.startsWith('p:') || key.startsWith('i:') || key.startsWith('el:');

async function loadFeatures(tx: Sql, kind: Kind, ids: number[], features: Map<number, Features>, keys: Map<number, string[]>): Promise<void> {
  if (ids.length === 0) return;
  const rows = await tx<{ source_record_id: string; features: Features; keys: string[] }[]>`
    select source_record_id, features, keys from hub.match_records where source_record_id = any(${ids}::bigint[]) and kind = ${kind}`;
  for (const row of rows) {
    features.set(Number(row.source_record_id), row.features);
    keys.set(Number(row.source_record_id), row.keys);
  }
}


export { priorParams };

/**
 * The `derive` job: drains the workspace's fact change log in batches, one transaction per
 * batch (log rows are deleted in the same transaction that applies them, so a crash
 * re-applies the batch, never skips it). Organizations first, so that customers can point
 * to their organization.
 */
export async function drainFactChanges(sql: Sql, workspaceId: string, options: { batch?: number } = {}): Promise<{ batches: number; records: number; events: number; timings_ms: Record<string, number> }> {
  const totals = { batches: 0, records: 0, events: 0, timings_ms: {} as Record<string, number> };
  for (;;) {
    const applied = await sql.begin(async (transaction) => {
      const tx = transaction as unknown as Sql;
      const rows = await tx<{ kind: Kind; source_record_ids: string[] }[]>`
        delete from hub.fact_changes where id in (
          select id from hub.fact_changes where workspace_id = ${workspaceId} order by id limit ${options.batch ?? 20} for update skip locked)
        returning kind, source_record_ids`;
      if (rows.length === 0) return false;
      for (const kind of RECONCILE_KINDS) {
        const ids = [...new Set(rows.filter((row) => row.kind === kind).flatMap((row) => row.source_record_ids.map(Number)))].sort((x, y) => x - y);
        const result = await reconcileIncremental(tx, workspaceId, kind, ids);
        totals.records += result.records;
        totals.events += result.events;
        for (const [step, ms] of Object.entries(result.timings_ms)) totals.timings_ms[step] = (totals.timings_ms[step] ?? 0) + ms;
      }
      totals.batches++;
      return true;
    });
    if (!applied) return totals;
  }
}
