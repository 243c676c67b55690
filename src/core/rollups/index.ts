import { z } from 'zod';
import type { Sql } from '../../db/index.js';
import { METRIC_GRAINS } from '../../db/schema/rollups.js';
import { emitEvents } from '../events/batch.js';
import { metricsOf, type Family } from './definitions.js';
import { computeFamily, FAMILY_SOURCES } from './families.js';

// Rollups follow the facts. Triggers on the fact tables (migration 0002) mark the times a
// change touches in hub.rollup_dirty, in the change's own transaction, and queue nothing
// themselves: the `derive` job (queued by the writer, one queue per workspace) drains the
// marks here, recomputes exactly the periods they fall in — each period whole, from the
// facts, by the same SQL a full rebuild runs — and writes only the rows that changed, with
// a metrics.updated event listing them. A crash rolls the marks back with the work.

export const timeZoneSchema = z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Moscow')
  .describe('Periods (days, ISO weeks, months) are local to this time zone.');
export const businessHoursSchema = z.object({
  days: z.array(z.number().int().min(1).max(7)).min(1).describe('ISO days of the week, 1 = Monday.'),
  start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM'),
  end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'HH:MM'),
}).refine((hours) => hours.start < hours.end, 'start must be before end').nullable()
  .describe('When set, first_response_time counts only time inside these hours; null for calendar time.');

export const metricSettingsSchema = z.object({
  time_zone: timeZoneSchema.default('UTC'),
  business_hours: businessHoursSchema.default(null),
});
export type MetricSettings = z.infer<typeof metricSettingsSchema>;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export async function loadMetricSettings(sql: Sql, workspaceId: string): Promise<MetricSettings> {
  const [row] = await sql<{ settings: Record<string, unknown> }[]>`select settings from hub.workspaces where id = ${workspaceId}`;
  return metricSettingsSchema.parse({ time_zone: row?.settings?.time_zone, business_hours: row?.settings?.business_hours });
}

/** Families in the order they run: derived ratios read the base rollups written before them. */
const FAMILIES: Family[] = ['payments', 'invoices', 'invoices_due', 'deals_closed', 'deals_open', 'tasks', 'messages', 'satisfaction', 'costs', 'customers', 'derived'];

/** The table and time column whose local periods a family's full rebuild covers. */
const FAMILY_TIME: Record<Exclude<Family, 'customers' | 'derived'>, { table: string; column: string }> = {
  payments: { table: 'canonical.payments', column: 'paid_at' },
  invoices: { table: 'canonical.invoices', column: 'paid_at' },
  invoices_due: { table: 'canonical.invoices', column: 'due_at' },
  deals_closed: { table: 'canonical.deals', column: 'closed_at' },
  deals_open: { table: 'canonical.deals', column: 'created_at' },
  tasks: { table: 'canonical.tasks', column: 'due_at' },
  messages: { table: 'hub.thread_firsts', column: 'first_in' },
  satisfaction: { table: 'canonical.satisfaction_responses', column: 'answered_at' },
  costs: { table: 'canonical.costs', column: 'incurred_at' },
};

/** Fact tables that name a customer, and their time columns by family: a change of golden customer (merge, split) touches those times. */
const CUSTOMER_FACTS: { table: string; times: [column: string, family: string][] }[] = [
  { table: 'payments', times: [['paid_at', 'payments']] },
  { table: 'invoices', times: [['paid_at', 'invoices'], ['due_at', 'invoices_due']] },
  { table: 'deals', times: [['closed_at', 'deals_closed'], ['created_at', 'deals_open']] },
  { table: 'tasks', times: [['due_at', 'tasks']] },
  { table: 'satisfaction_responses', times: [['answered_at', 'satisfaction']] },
];

export interface RollupStats {
  full: boolean;
  periods: number;
  rows_changed: number;
  rows_removed: number;
  events: number;
  ms: number;
  /** Per family, over the three grains. */
  timings_ms: Record<string, number>;
}

/** Rows per metrics.updated event: receivers get bounded payloads. */
const EVENT_ROWS = 500;

/**
 * Brings the workspace's rollups up to date with its dirty marks (or all of them, `full`).
 * One transaction; concurrent drains of one workspace wait for each other.
 */
export async function refreshRollups(sql: Sql, workspaceId: string, options: { full?: boolean } = {}): Promise<RollupStats> {
  const started = performance.now();
  const result = await sql.begin(async (transaction) => {
    const tx = transaction as unknown as Sql;
    await tx`select pg_advisory_xact_lock(hashtext(${`rollups:${workspaceId}`}))`;
    const settings = await loadMetricSettings(tx, workspaceId);
    const tz = settings.time_zone;
    await tx`create temp table rollup_marks (family text, at timestamptz, ref text) on commit drop`;
    await tx`
      with taken as (delete from hub.rollup_dirty where workspace_id = ${workspaceId} returning family, at, ref)
      insert into rollup_marks select family, at, ref from taken`;
    const [{ everything, marks }] = await tx<{ everything: boolean; marks: number }[]>`
      select coalesce(bool_or(family = 'all'), false) as everything, count(*)::int as marks from rollup_marks`;
    const full = options.full === true || everything;
    if (!full && marks === 0) return { full, periods: 0, rows_changed: 0, rows_removed: 0, events: 0, ms: Math.round(performance.now() - started), timings_ms: {} };
    // Per-customer rows are recomputed for the customers in rollup_customers only, unless every one may have changed.
    let customersScoped = false;
    await tx`create temp table rollup_activity_changes (grain text, period date) on commit drop`;
    if (full) {
      await refreshThreads(tx, workspaceId, false);
      await resolveCustomerRefs(tx, workspaceId, null);
      await refreshFirsts(tx, workspaceId, null, false);
      await refreshActivity(tx, workspaceId, tz, null);
      // Rewritten whole just now: without fresh statistics the planner joins them blind (a 50,000 × 50,000 nested loop).
      await tx`analyze hub.customer_refs`;
      await tx`analyze hub.customer_firsts`;
      await tx`analyze hub.customer_activity`;
      await tx`analyze hub.thread_firsts`;
    } else customersScoped = !(await expandMarks(tx, workspaceId, tz)).everyone;

    await tx`create temp table rollup_ranges (period date primary key, lo timestamptz not null, hi timestamptz not null) on commit drop`;
    await tx`create temp table rollup_fresh (metric text, period_start date, dimension text, dimension_value text, currency text, value float8, count bigint, inputs jsonb) on commit drop`;
    const stats: RollupStats = { full, periods: 0, rows_changed: 0, rows_removed: 0, events: 0, ms: 0, timings_ms: {} };
    // Families no mark feeds are skipped without a statement.
    const marked = full ? null : new Set((await tx<{ family: string }[]>`select distinct family from rollup_marks`).map((row) => row.family));
    const families = FAMILIES.filter((family) => marked === null || FAMILY_SOURCES[family].dirty.some((name) => marked.has(name)));
    for (const grain of METRIC_GRAINS) {
      for (const family of families) {
        await tx`truncate rollup_ranges, rollup_fresh`;
        const { count: periods } = await tx.unsafe(`insert into rollup_ranges (period, lo, hi)
          select p, (p::timestamp at time zone $2), ((p + ('1 ' || $3)::interval)::timestamp at time zone $2)
          from (${periodsQuery(family, full)}) periods(p) where p is not null and $1::uuid is not null on conflict do nothing`, [workspaceId, tz, grain]);
        if (periods === 0 && !full) continue;
        const familyStarted = performance.now();
        stats.periods += periods;
        // Temp tables get no statistics from autovacuum: without them the planner guesses, badly.
        await tx`analyze rollup_ranges`;
        if (periods > 0) await computeFamily(tx, family, workspaceId, tz, grain, { businessHours: settings.business_hours, customersScoped });
        await tx`analyze rollup_fresh`;
        const changes = await writeFamily(tx, workspaceId, grain, metricsOf(family), full, customersScoped);
        // A rebuild may have written most of the table: derived metrics join it, so give the planner its size.
        if (full && family === 'costs') await tx`analyze canonical.metric_rollups`;
        stats.timings_ms[family] = (stats.timings_ms[family] ?? 0) + Math.round(performance.now() - familyStarted);
        stats.rows_changed += changes.upserted;
        stats.rows_removed += changes.removed;
        if (changes.upserted + changes.removed === 0) continue;
        const events = [];
        if (changes.truncated) {
          // Too many to list (a rebuild, a new time zone): say what changed, receivers read /v1/metrics.
          events.push({ workspaceId, type: 'metrics.updated', subject: `metrics:${grain}`, data: {
            grain, time_zone: tz, metrics: metricsOf(family), from: changes.from, to: changes.to,
            rows_changed: changes.upserted, rows_removed: changes.removed, truncated: true, rows: [], removed: [],
          } });
        } else {
          for (let index = 0; index < changes.rows.length; index += EVENT_ROWS) {
            const chunk = changes.rows.slice(index, index + EVENT_ROWS);
            events.push({ workspaceId, type: 'metrics.updated', subject: `metrics:${grain}`, data: {
              grain,
              time_zone: tz,
              rows: chunk.filter((row) => row.change === 'upserted').map(({ change, ...row }) => row),
              removed: chunk.filter((row) => row.change === 'removed').map(({ change, value, count, inputs, ...key }) => key),
            } });
          }
        }
        await emitEvents(tx, events);
        stats.events += events.length;
      }
    }
    stats.ms = Math.round(performance.now() - started);
    return stats;
  });
  if (result.full) {
    // A rebuild rewrote these whole: vacuumed now, the next refresh reads them index-only
    // (an unvacuumed page costs a random heap read per row) instead of after autovacuum's next round.
    await sql`vacuum (analyze) hub.customer_refs, hub.customer_firsts, hub.customer_activity, hub.thread_firsts, canonical.metric_rollups`;
  }
  return result;
}

/**
 * Marks that name a thing rather than a time become times: a thread → its first inbound
 * message and first reply are re-derived in hub.thread_firsts, and where they moved the old and
 * new first inbound times are marked (`threads`); a person record whose golden customer changed
 * (`links`, by record id) or that was deleted (`people`, by connection|external id) → its
 * reference is re-resolved in hub.customer_refs and the times of every fact naming it are marked.
 */
async function expandMarks(tx: Sql, workspaceId: string, timeZone: string): Promise<{ everyone: boolean }> {
  await refreshThreads(tx, workspaceId, true);
  await tx`create temp table rollup_refs (connection_id uuid, external_id text, primary key (connection_id, external_id)) on commit drop`;
  const refs = await tx`
    insert into rollup_refs
    select sp.connection_id, sp.external_id
    from (select distinct ref::bigint as id from rollup_marks where family = 'links') d
    join canonical.source_people sp on sp.source_record_id = d.id and sp.workspace_id = ${workspaceId}
    union
    select split_part(ref, '|', 1)::uuid, substr(ref, length(split_part(ref, '|', 1)) + 2) from rollup_marks where family = 'people'`;
  // Customers whose facts changed (the refs and payers marks) and those a re-resolved reference
  // named before or names now: their per-customer rows are recomputed, no one else's.
  // payer: its first payment and active periods are recomputed too (payments named it, or its references moved).
  await tx`create temp table rollup_customers (customer_id uuid primary key, payer boolean not null) on commit drop`;
  const [{ everyone }] = await tx<{ everyone: boolean }[]>`
    select exists (select 1 from rollup_marks where family in ('refs', 'payers') and ref is null) as everyone`;
  if (refs.count > 0) {
    await tx`insert into rollup_customers select distinct r.customer_id, true from rollup_refs k join hub.customer_refs r on r.workspace_id = ${workspaceId} and r.connection_id = k.connection_id and r.external_id = k.external_id`;
    await resolveCustomerRefs(tx, workspaceId, 'rollup_refs');
    await tx`insert into rollup_customers select distinct r.customer_id, true from rollup_refs k join hub.customer_refs r on r.workspace_id = ${workspaceId} and r.connection_id = k.connection_id and r.external_id = k.external_id on conflict do nothing`;
    for (const facts of CUSTOMER_FACTS) {
      await tx.unsafe(`
        insert into rollup_marks (family, at)
        select t.family, t.at
        from rollup_refs k
        join canonical.${facts.table} f on f.workspace_id = $1 and f.connection_id = k.connection_id and f.customer_ref = k.external_id
        cross join lateral (values ${facts.times.map(([column, family]) => `('${family}', f.${column})`).join(', ')}) t(family, at)
        where t.at is not null`, [workspaceId]);
    }
  }
  if (!everyone) {
    await tx`
      insert into rollup_customers
      select r.customer_id, bool_or(d.family = 'payers')
      from (
        select distinct m.family, x.ref from rollup_marks m cross join lateral jsonb_array_elements_text(m.ref::jsonb) x(ref)
        where m.family in ('refs', 'payers') and m.ref is not null
      ) d
      join hub.customer_refs r on r.workspace_id = ${workspaceId} and r.connection_id = split_part(d.ref, '|', 1)::uuid
        and r.external_id = substr(d.ref, length(split_part(d.ref, '|', 1)) + 2)
      group by r.customer_id
      on conflict (customer_id) do update set payer = rollup_customers.payer or excluded.payer`;
  }
  await tx`create temp table rollup_payers on commit drop as select customer_id from rollup_customers where payer`;
  await refreshFirsts(tx, workspaceId, everyone ? null : 'rollup_payers', true);
  await refreshActivity(tx, workspaceId, timeZone, everyone ? null : 'rollup_payers');
  if (everyone) {
    // Rewritten whole: its sets changed at most where payments were marked or first payments moved.
    await tx`
      insert into rollup_activity_changes
      select distinct g.grain, date_trunc(g.grain, m.at at time zone ${timeZone})::date
      from rollup_marks m cross join (values ('day'), ('week'), ('month')) g(grain)
      where m.family in ('payments', 'customers') and m.at is not null`;
  }
  return { everyone };
}

/**
 * hub.customer_activity for the customers in `customersTable`, or for the whole workspace
 * (null): in which local day, week and month each paid. The (grain, period) pairs whose sets
 * changed go to rollup_activity_changes: the customers family recomputes those (and the next,
 * for retention).
 */
async function refreshActivity(tx: Sql, workspaceId: string, timeZone: string, customersTable: string | null): Promise<void> {
  const scoped = customersTable !== null;
  if (!scoped) {
    // Whole: written afresh in period order (a rebuild lays each period's set out together, and
    // a sorted load into the key is sequential), nothing to compare.
    await tx`delete from hub.customer_activity where workspace_id = ${workspaceId}`;
    await tx`
      insert into hub.customer_activity (workspace_id, grain, period_start, customer_id, owner, first)
      select x.*, x.period = date_trunc(x.grain, fi.first_paid_at at time zone ${timeZone})::date
      from (
        select distinct ${workspaceId}::uuid, g.grain, date_trunc(g.grain, f.paid_at at time zone ${timeZone})::date as period, r.customer_id, r.owner
        from hub.customer_refs r
        join canonical.payments f on f.workspace_id = r.workspace_id and f.connection_id = r.connection_id and f.customer_ref = r.external_id
        cross join (values ('day'), ('week'), ('month')) g(grain)
        where r.workspace_id = ${workspaceId} and f.deleted_at is null and f.paid_at is not null and coalesce(f.amount, 0) - coalesce(f.refunded_amount, 0) > 0
      ) x
      join hub.customer_firsts fi on fi.workspace_id = ${workspaceId} and fi.customer_id = x.customer_id
      order by 2, 3, 4`;
    return;
  }
  // A customer's set changes only in the periods of the payments marked (a re-resolved
  // reference marks every payment it names), its first flag where its first payment moved
  // (customers marks): those periods, and the span they cover.
  await tx`
    create temp table rollup_activity_scope on commit drop as
    select distinct g.grain, date_trunc(g.grain, m.at at time zone ${timeZone})::date as period
    from rollup_marks m cross join (values ('day'), ('week'), ('month')) g(grain)
    where m.family in ('payments', 'customers') and m.at is not null`;
  await tx`analyze rollup_activity_scope`;
  await tx.unsafe(`analyze ${customersTable}`);
  await tx.unsafe(`
    with span as (
      select min(period)::timestamp at time zone $2 as lo, max((period + ('1 ' || grain)::interval)::timestamp at time zone $2) as hi from rollup_activity_scope
    ),
    active as (
      select distinct g.grain, date_trunc(g.grain, f.paid_at at time zone $2)::date as period, r.customer_id, r.owner
      from ${customersTable} c join hub.customer_refs r on r.workspace_id = $1 and r.customer_id = c.customer_id
      cross join span
      join canonical.payments f on f.workspace_id = $1 and f.connection_id = r.connection_id and f.customer_ref = r.external_id
        and f.paid_at >= span.lo and f.paid_at < span.hi
      cross join (values ('day'), ('week'), ('month')) g(grain)
      where f.deleted_at is null and coalesce(f.amount, 0) - coalesce(f.refunded_amount, 0) > 0
        and (g.grain, date_trunc(g.grain, f.paid_at at time zone $2)::date) in (select grain, period from rollup_activity_scope)
    ),
    fresh as (
      select a.*, a.period = date_trunc(a.grain, fi.first_paid_at at time zone $2)::date as first
      from active a join hub.customer_firsts fi on fi.workspace_id = $1 and fi.customer_id = a.customer_id
    ),
    old as (
      select a.grain, a.period_start as period, a.customer_id, a.owner, a.first
      from rollup_activity_scope s cross join ${customersTable} c
      join hub.customer_activity a on a.workspace_id = $1 and a.grain = s.grain and a.period_start = s.period and a.customer_id = c.customer_id
    ),
    changed as (
      select coalesce(n.grain, o.grain) as grain, coalesce(n.period, o.period) as period, coalesce(n.customer_id, o.customer_id) as customer_id,
        n.owner, n.first, n.customer_id is null as gone
      from fresh n full join old o on o.grain = n.grain and o.period = n.period and o.customer_id = n.customer_id
      where n.customer_id is null or o.customer_id is null or (n.owner, n.first) is distinct from (o.owner, o.first)
    ),
    removed as (
      delete from hub.customer_activity a using changed c
      where c.gone and a.workspace_id = $1 and a.grain = c.grain and a.period_start = c.period and a.customer_id = c.customer_id
    ),
    upserted as (
      insert into hub.customer_activity (workspace_id, grain, period_start, customer_id, owner, first)
      select $1, grain, period, customer_id, owner, first from changed where not gone
      on conflict (workspace_id, grain, period_start, customer_id) do update set owner = excluded.owner, first = excluded.first
    )
    insert into rollup_activity_changes select distinct grain, period from changed`,
  [workspaceId, timeZone]);
}

/**
 * hub.thread_firsts for the threads the messages marks name (`scoped`), or for the whole
 * workspace: each thread's first inbound message and the first outbound one after it.
 */
async function refreshThreads(tx: Sql, workspaceId: string, scoped: boolean): Promise<void> {
  if (!scoped) {
    await tx`delete from hub.thread_firsts where workspace_id = ${workspaceId}`;
    await tx`
      insert into hub.thread_firsts (workspace_id, connection_id, thread_ref, first_in, first_out)
      select ${workspaceId}::uuid, i.connection_id, i.thread_ref, i.first_in, o.first_out
      from (
        select connection_id, thread_ref, min(sent_at) as first_in from canonical.messages
        where workspace_id = ${workspaceId} and direction = 'inbound' and deleted_at is null and thread_ref is not null and sent_at is not null
        group by connection_id, thread_ref
      ) i
      cross join lateral (
        select min(o.sent_at) as first_out from canonical.messages o
        where o.workspace_id = ${workspaceId} and o.connection_id = i.connection_id and o.thread_ref = i.thread_ref
          and o.direction = 'outbound' and o.deleted_at is null and o.sent_at > i.first_in) o`;
    return;
  }
  await tx`
    with keys as (
      select distinct split_part(ref, '|', 1)::uuid as connection_id, substr(ref, length(split_part(ref, '|', 1)) + 2) as thread_ref
      from rollup_marks where family = 'messages' and ref is not null and ref like '%|_%'
    ),
    fresh as (
      select k.connection_id, k.thread_ref, fi.at as first_in, fo.at as first_out
      from keys k
      cross join lateral (
        select min(i.sent_at) as at from canonical.messages i
        where i.workspace_id = ${workspaceId} and i.connection_id = k.connection_id and i.thread_ref = k.thread_ref and i.direction = 'inbound' and i.deleted_at is null) fi
      cross join lateral (
        select min(o.sent_at) as at from canonical.messages o
        where o.workspace_id = ${workspaceId} and o.connection_id = k.connection_id and o.thread_ref = k.thread_ref
          and o.direction = 'outbound' and o.deleted_at is null and o.sent_at > fi.at) fo
      where fi.at is not null
    ),
    old as (
      select t.connection_id, t.thread_ref, t.first_in, t.first_out
      from keys k join hub.thread_firsts t on t.workspace_id = ${workspaceId} and t.connection_id = k.connection_id and t.thread_ref = k.thread_ref
    ),
    changed as (
      select coalesce(n.connection_id, o.connection_id) as connection_id, coalesce(n.thread_ref, o.thread_ref) as thread_ref,
        n.first_in, n.first_out, o.first_in as old_first_in
      from fresh n full join old o on o.connection_id = n.connection_id and o.thread_ref = n.thread_ref
      where (n.first_in, n.first_out) is distinct from (o.first_in, o.first_out)
    ),
    removed as (
      delete from hub.thread_firsts t using changed c
      where c.first_in is null and t.workspace_id = ${workspaceId} and t.connection_id = c.connection_id and t.thread_ref = c.thread_ref
    ),
    upserted as (
      insert into hub.thread_firsts (workspace_id, connection_id, thread_ref, first_in, first_out)
      select ${workspaceId}, connection_id, thread_ref, first_in, first_out from changed where first_in is not null
      on conflict (workspace_id, connection_id, thread_ref) do update set first_in = excluded.first_in, first_out = excluded.first_out
    )
    insert into rollup_marks (family, at)
    select 'threads', x.at from changed cross join lateral (values (first_in), (old_first_in)) x(at) where x.at is not null`;
}

/**
 * hub.customer_firsts for the customers in `customersTable` (customer_id), or for the whole
 * workspace (null). Where a customer's first payment moved, its old and new times are marked
 * `customers`: new and returning customers change in those periods.
 */
async function refreshFirsts(tx: Sql, workspaceId: string, customersTable: string | null, markMoves: boolean): Promise<void> {
  const scoped = customersTable !== null;
  await tx.unsafe(`
    with fresh as (
      ${scoped
        // A few customers: each reference's first payment is the first entry of the (workspace, connection, customer_ref, paid_at) index that counts.
        ? `select r.customer_id, min(fp.at) as first_paid_at
          from ${customersTable} c join hub.customer_refs r on r.workspace_id = $1 and r.customer_id = c.customer_id
          cross join lateral (
            select min(f.paid_at) as at from canonical.payments f
            where f.workspace_id = $1 and f.connection_id = r.connection_id and f.customer_ref = r.external_id
              and f.deleted_at is null and coalesce(f.amount, 0) - coalesce(f.refunded_amount, 0) > 0) fp
          where fp.at is not null
          group by r.customer_id`
        : `select r.customer_id, min(f.paid_at) as first_paid_at
          from hub.customer_refs r
          join canonical.payments f on f.workspace_id = $1 and f.connection_id = r.connection_id and f.customer_ref = r.external_id
          where r.workspace_id = $1 and f.deleted_at is null and f.paid_at is not null and coalesce(f.amount, 0) - coalesce(f.refunded_amount, 0) > 0
          group by r.customer_id`}
    ),
    old as (
      select o.customer_id, o.first_paid_at from hub.customer_firsts o
      ${scoped ? `join ${customersTable} c on c.customer_id = o.customer_id` : ''}
      where o.workspace_id = $1
    ),
    changed as (
      select coalesce(n.customer_id, o.customer_id) as customer_id, o.first_paid_at as old_at, n.first_paid_at as new_at
      from fresh n full join old o on o.customer_id = n.customer_id
      where n.first_paid_at is distinct from o.first_paid_at
    ),
    removed as (
      delete from hub.customer_firsts d using changed c
      where d.workspace_id = $1 and d.customer_id = c.customer_id and c.new_at is null
    ),
    upserted as (
      insert into hub.customer_firsts (workspace_id, customer_id, first_paid_at)
      select $1, customer_id, new_at from changed where new_at is not null
      on conflict (workspace_id, customer_id) do update set first_paid_at = excluded.first_paid_at
    )
    ${markMoves ? `insert into rollup_marks (family, at) select 'customers', t.at from changed cross join lateral (values (old_at), (new_at)) t(at) where t.at is not null` : 'select 1'}`,
  [workspaceId]);
}

/**
 * hub.customer_refs for the references in `keysTable` (connection_id, external_id), or for the
 * whole workspace (null): the customer linked to the lowest live person record of that
 * connection with that external id, and its owner; none when no live record is linked.
 */
async function resolveCustomerRefs(tx: Sql, workspaceId: string, keysTable: string | null): Promise<void> {
  const scoped = keysTable !== null;
  await tx.unsafe(scoped
    ? `delete from hub.customer_refs r using ${keysTable} k where r.workspace_id = $1 and r.connection_id = k.connection_id and r.external_id = k.external_id`
    : `delete from hub.customer_refs where workspace_id = $1`, [workspaceId]);
  await tx.unsafe(`
    insert into hub.customer_refs (workspace_id, connection_id, external_id, customer_id, owner)
    select distinct on (sp.connection_id, sp.external_id) $1::uuid, sp.connection_id, sp.external_id, cl.customer_id, cu.owner
    from ${scoped ? `${keysTable} k join canonical.source_people sp on sp.connection_id = k.connection_id and sp.external_id = k.external_id` : 'canonical.source_people sp'}
    join canonical.customer_links cl on cl.source_record_id = sp.source_record_id
    left join canonical.customers cu on cu.id = cl.customer_id
    where sp.workspace_id = $1 and sp.deleted_at is null
    order by sp.connection_id, sp.external_id, sp.source_record_id`, [workspaceId]);
}

/** The periods (local dates) a family must recompute, as a SELECT of one date column. $1 workspace, $2 zone, $3 grain. */
function periodsQuery(family: Family, full: boolean): string {
  const local = (column: string) => `date_trunc($3, ${column} at time zone $2)::date`;
  const step = `('1 ' || $3)::interval`;
  if (family === 'derived') {
    // Wherever its inputs may have changed: the periods of revenue, paid invoices, costs and completed jobs.
    return full
      ? `select distinct period_start from canonical.metric_rollups where workspace_id = $1 and grain = $3 and metric in ('paid_invoices', 'costs')`
      : `select distinct ${local('at')} from rollup_marks where family in ('payments', 'invoices', 'costs', 'deals') and at is not null`;
  }
  if (family === 'customers') {
    // A period's active customers change where hub.customer_activity changed, its new and
    // returning ones with the first payments that moved into or out of it (customers marks),
    // its retention with the period before: those periods and the period after each.
    if (full) {
      return `
        select distinct p from hub.customer_activity a
        cross join lateral (values (a.period_start), ((a.period_start + ${step})::date)) t(p)
        where a.workspace_id = $1 and a.grain = $3`;
    }
    return `
      select distinct p from (
        select period as at from rollup_activity_changes where grain = $3
        union all
        select ${local('at')} from rollup_marks where family = 'customers' and at is not null
      ) m cross join lateral (values (m.at), ((m.at + ${step})::date)) t(p)`;
  }
  const { table, column } = FAMILY_TIME[family];
  if (full) return `select distinct ${local(`f.${column}`)} from ${table} f where f.workspace_id = $1 and f.${column} is not null`;
  return `select distinct ${local('at')} from rollup_marks where family = any(array[${FAMILY_SOURCES[family].dirty.map((name) => `'${name}'`).join(', ')}]) and at is not null`;
}

interface ChangedRow {
  change: 'upserted' | 'removed';
  metric: string;
  period_start: string;
  dimension: string;
  dimension_value: string;
  currency: string;
  value: number | null;
  count: number;
  inputs: Record<string, unknown>;
}

/** Rows listed in metrics.updated events per family and grain; beyond it one summary event says what changed. */
const LISTED_ROWS = 5_000;

interface FamilyChanges {
  upserted: number;
  removed: number;
  /** The changed rows, when there are at most LISTED_ROWS of them. */
  rows: ChangedRow[];
  truncated: boolean;
  from: string | null;
  to: string | null;
}

/** Writes rollup_fresh over the family's rows of the grain in rollup_ranges (all of them when full): changed rows only. */
async function writeFamily(tx: Sql, workspaceId: string, grain: string, metrics: string[], full: boolean, customersScoped: boolean): Promise<FamilyChanges> {
  const [result] = await tx<{ upserted: number; removed: number; from: string | null; to: string | null; rows: ChangedRow[] | null }[]>`
    with existing as (
      ${full
        ? tx`select m.metric, m.period_start, m.dimension, m.dimension_value, m.currency, m.value, m.count, m.inputs
          from canonical.metric_rollups m
          where m.workspace_id = ${workspaceId} and m.grain = ${grain} and m.metric = any(${metrics}::text[])`
        // Through the key (workspace, metric, grain, dimension, period, value): a recomputed month's
        // thousands of per-customer rows are not read, only those of the customers recomputed.
        : tx`select m.metric, m.period_start, m.dimension, m.dimension_value, m.currency, m.value, m.count, m.inputs
          from unnest(${metrics}::text[]) k(metric)
          cross join (values ('workspace'), ('owner'), ('connection')${customersScoped ? tx`` : tx`, ('customer')`}) d(dimension)
          cross join rollup_ranges r
          join canonical.metric_rollups m on m.workspace_id = ${workspaceId} and m.metric = k.metric and m.grain = ${grain}
            and m.dimension = d.dimension and m.period_start = r.period
          ${customersScoped ? tx`
          union all
          select m.metric, m.period_start, m.dimension, m.dimension_value, m.currency, m.value, m.count, m.inputs
          from unnest(${metrics}::text[]) k(metric)
          cross join rollup_ranges r
          cross join rollup_customers c
          join canonical.metric_rollups m on m.workspace_id = ${workspaceId} and m.metric = k.metric and m.grain = ${grain}
            and m.dimension = 'customer' and m.period_start = r.period and m.dimension_value = c.customer_id::text` : tx``}`}
    ),
    -- One pass over the old and the fresh rows: only differences are written (most rows of a
    -- recomputed month are what they were).
    diff as (
      select coalesce(n.metric, e.metric) as metric, coalesce(n.period_start, e.period_start) as period_start,
        coalesce(n.dimension, e.dimension) as dimension, coalesce(n.dimension_value, e.dimension_value) as dimension_value,
        coalesce(n.currency, e.currency) as currency, n.value, n.count, n.inputs, n.metric is null as gone
      from rollup_fresh n
      full join existing e on e.metric = n.metric and e.period_start = n.period_start and e.dimension = n.dimension
        and e.dimension_value = n.dimension_value and e.currency = n.currency
      where n.metric is null or e.metric is null or (n.value, n.count, n.inputs) is distinct from (e.value, e.count, e.inputs)
    ),
    removed as (
      delete from canonical.metric_rollups m using diff d
      where d.gone and m.workspace_id = ${workspaceId} and m.grain = ${grain} and m.metric = d.metric and m.period_start = d.period_start
        and m.dimension = d.dimension and m.dimension_value = d.dimension_value and m.currency = d.currency
      returning m.metric, m.period_start, m.dimension, m.dimension_value, m.currency
    ),
    upserted as (
      insert into canonical.metric_rollups as m (workspace_id, metric, grain, period_start, dimension, dimension_value, currency, value, count, inputs)
      select ${workspaceId}, metric, ${grain}, period_start, dimension, dimension_value, currency, value, count, inputs from diff where not gone
      on conflict (workspace_id, metric, grain, dimension, period_start, dimension_value, currency) do update
        set value = excluded.value, count = excluded.count, inputs = excluded.inputs, updated_at = now()
      returning m.metric, m.period_start, m.dimension, m.dimension_value, m.currency, m.value, m.count, m.inputs
    ),
    changed as (
      select 'removed' as change, metric, period_start, dimension, dimension_value, currency, null::float8 as value, 0::bigint as count, null::jsonb as inputs from removed
      union all
      select 'upserted', metric, period_start, dimension, dimension_value, currency, value, count, inputs from upserted
    )
    select
      (select count(*)::int from changed where change = 'upserted') as upserted,
      (select count(*)::int from changed where change = 'removed') as removed,
      (select min(period_start)::text from changed) as "from",
      (select max(period_start)::text from changed) as "to",
      (select json_agg(json_build_object('change', change, 'metric', metric, 'period_start', period_start::text, 'dimension', dimension,
          'dimension_value', dimension_value, 'currency', currency, 'value', value, 'count', count, 'inputs', inputs))
        from (select * from changed limit ${LISTED_ROWS + 1}) listed) as rows`;
  const rows = result.rows ?? [];
  const truncated = rows.length > LISTED_ROWS;
  return { upserted: result.upserted, removed: result.removed, rows: truncated ? [] : rows, truncated, from: result.from, to: result.to };
}

/** Marks every rollup of the workspace stale (a time-zone or business-hours change): the next drain rebuilds them. */
export async function markAllStale(sql: Sql, workspaceId: string): Promise<void> {
  await sql`insert into hub.rollup_dirty (workspace_id, family) values (${workspaceId}, 'all')`;
}

/**
 * Time passes: an invoice due a minute ago is overdue now, with no fact changing. Marks the
 * due times passed since the last look (hub.rollup_clock), for every workspace; the caller
 * queues the drains.
 */
export async function markPassedDueDates(sql: Sql): Promise<string[]> {
  const rows = await sql<{ workspace_id: string }[]>`
    with clock as (
      insert into hub.rollup_clock (id, checked_until) values (1, now()) on conflict (id) do update set checked_until = now()
      returning (select checked_until from hub.rollup_clock where id = 1) as since, checked_until as until
    ),
    marked as (
      insert into hub.rollup_dirty (workspace_id, family, at)
      select distinct f.workspace_id, 'invoices', f.due_at from canonical.invoices f, clock
      where f.due_at <= clock.until and (clock.since is null or f.due_at > clock.since) and f.paid_at is null and f.deleted_at is null
      returning workspace_id
    )
    select distinct workspace_id from marked`;
  return rows.map((row) => row.workspace_id);
}
