import type { Sql } from '../../db/index.js';
import { METRICS, type Dimension, type Family } from './definitions.js';

// The SQL of each metric family. A family reads one fact table by one time column and
// writes every metric that comes from that scan into the temp table rollup_fresh, for the
// periods whose local time spans are in rollup_ranges (lo, hi) — one grain at a time.
//
// Why SQL: the facts are in PostgreSQL and a rollup is a GROUP BY; GROUPING SETS give every
// dimension from one scan, percentile_cont gives exact percentiles, and only aggregates
// cross the wire. The same statement serves a full rebuild (one unbounded range) and an
// incremental run (the touched periods' ranges, found through the (workspace_id, time)
// indexes), so the two cannot disagree: a period is always computed whole, from the facts.
//
// Parameters of every statement: $1 workspace id, $2 time zone, $3 grain (day|week|month).

export interface FamilyContext {
  businessHours: { days: number[]; start: string; end: string } | null;
  /** Per-customer rows only for the customers in rollup_customers (the others' facts did not change). */
  customersScoped: boolean;
}

const DIMENSION_COLUMN: Record<Exclude<Dimension, 'workspace'>, string> = { owner: 'owner', customer: 'customer_key', connection: 'connection_id' };

/**
 * The golden customer (and its owner) of a fact `f` with customer_ref: hub.customer_refs,
 * which the drain keeps (the customer of the lowest live person record of the same
 * connection with that external id) and its owner. An equality join: resolving source person →
 * link for every fact read was half the cost of a refresh.
 */
const CUSTOMER_OF = `
  left join hub.customer_refs pc on pc.workspace_id = f.workspace_id and pc.connection_id = f.connection_id and pc.external_id = f.customer_ref`;

const period = (column: string) => `date_trunc($3, f.${column} at time zone $2)::date`;
/**
 * The live facts of `table` whose `column` falls in a range of rollup_ranges, as `f`. One index
 * range scan per range, always: the subquery is lateral and fenced (offset 0), because the
 * planner cannot see the ranges' bounds and, joining blind, once read every unpaid invoice and
 * compared it with every range.
 */
const inRanges = (table: string, column: string) => `rollup_ranges r cross join lateral (
    select * from canonical.${table} f where f.workspace_id = $1 and f.${column} >= r.lo and f.${column} < r.hi and f.deleted_at is null offset 0) f`;

interface Output {
  metric: string;
  value: string;
  count: string;
  inputs: string;
  /** Rows with a currency (money) or without ('' currency). */
  currency: boolean;
  /** Extra condition on the aggregate row, e.g. a denominator above zero. */
  where?: string;
}

interface Spec {
  /** SELECT of one row per fact: period, [currency], the dimension columns, measures. */
  rows: string;
  dims: Dimension[];
  /** Currency split: every output per currency, none, or both kinds. */
  currency: 'per_currency' | 'none' | 'both';
  aggregates: string;
  outputs: Output[];
  /** Only the per-customer rows (the others come from elsewhere, see paymentsByPeriodStatements). */
  customersOnly?: boolean;
}

/**
 * Per-customer rollups are kept by month only: by day or week they would be about one row
 * per fact (a client rarely pays twice a day), which bi.payments and friends already are.
 */
export const CUSTOMER_GRAINS = ['month'];

function statement(spec: Spec, grain: string, context: FamilyContext): string {
  const dims = spec.dims.filter((dim): dim is Exclude<Dimension, 'workspace'> => dim !== 'workspace' && (dim !== 'customer' || CUSTOMER_GRAINS.includes(grain)));
  const bases = spec.currency === 'per_currency' ? [['period', 'currency']] : spec.currency === 'none' ? [['period']] : [['period', 'currency'], ['period']];
  const sets = bases.flatMap((base) => [...(spec.customersOnly ? [] : [base]), ...dims.map((dim) => [...base, DIMENSION_COLUMN[dim]])]);
  const dimension = dims.length === 0 ? `'workspace'` : `case ${dims.map((dim) => `when grouping(${DIMENSION_COLUMN[dim]}) = 0 then '${dim}'`).join(' ')} else 'workspace' end`;
  const dimensionValue = dims.length === 0 ? `''` : `case ${dims.map((dim) => `when grouping(${DIMENSION_COLUMN[dim]}) = 0 then coalesce(${DIMENSION_COLUMN[dim]}::text, '')`).join(' ')} else '' end`;
  const currencyFlag = spec.currency === 'both' ? 'grouping(currency)' : spec.currency === 'per_currency' ? '0' : '1';
  const outputs = spec.outputs.map((output) => {
    const allowed = METRICS.find((metric) => metric.name === output.metric)!.dimensions.filter((dim) => dims.includes(dim as never) || (dim === 'workspace' && !spec.customersOnly));
    const conditions = [`a.currency_grouped = ${output.currency ? 0 : 1}`, `a.dimension in (${allowed.map((dim) => `'${dim}'`).join(', ')})`];
    if (output.where) conditions.push(output.where);
    return `select '${output.metric}', a.period, a.dimension, a.dimension_value, ${output.currency ? 'a.currency' : `''`}, (${output.value})::float8, (${output.count})::bigint, ${output.inputs}
      from agg a where ${conditions.join(' and ')}`;
  });
  // The customer grouping set sees only the customers being recomputed; the rest fall in the null group, which is dropped.
  const customerKey = !dims.includes('customer') ? '' : context.customersScoped
    ? ', case when x0.customer_id in (select customer_id from rollup_customers) then x0.customer_id end as customer_key'
    : ', x0.customer_id as customer_key';
  return `
    with x0 as (${spec.rows}),
    x as (select x0.*${customerKey} from x0),
    agg as (
      select period, ${spec.currency === 'none' ? `''::text` : 'currency'} as currency, ${currencyFlag} as currency_grouped,
        ${dimension} as dimension, ${dimensionValue} as dimension_value, ${spec.aggregates}
      from x
      group by grouping sets (${sets.map((set) => `(${set.join(', ')})`).join(', ')})
      -- A fact whose customer is unknown has no customer row (it still counts for the workspace).
      having not (${dims.includes('customer') ? 'grouping(customer_key) = 0 and customer_key is null' : 'false'})
    )
    insert into rollup_fresh (metric, period_start, dimension, dimension_value, currency, value, count, inputs)
    ${outputs.join('\nunion all\n')}`;
}

const stats = (column: string) =>
  `percentile_cont(0.5) within group (order by ${column}) as p50, percentile_cont(0.9) within group (order by ${column}) as p90, avg(${column})::float8 as mean, sum(${column})::float8 as total, count(${column}) as measured`;
const statsInputs = `jsonb_build_object('p50', a.p50, 'p90', a.p90, 'mean', a.mean, 'sum', a.total, 'count', a.measured)`;
const ratioInputs = (numerator: string, denominator: string) => `jsonb_build_object('numerator', ${numerator}, 'denominator', ${denominator})`;

const SPECS: Record<Exclude<Family, 'customers' | 'derived' | 'messages'>, Spec> = {
  payments: {
    rows: `select ${period('paid_at')} as period, coalesce(f.currency, '') as currency, pc.owner, pc.customer_id, f.connection_id,
        coalesce(f.amount, 0) - coalesce(f.refunded_amount, 0) as net, coalesce(f.refunded_amount, 0) as refunded
      from ${inRanges('payments', 'paid_at')} ${CUSTOMER_OF}`,
    dims: ['workspace', 'owner', 'customer', 'connection'],
    currency: 'per_currency',
    aggregates: 'sum(net)::float8 as net, sum(refunded)::float8 as refunded, count(*) as n',
    outputs: [{ metric: 'revenue', value: 'a.net', count: 'a.n', inputs: `jsonb_build_object('sum', a.net, 'refunded', a.refunded)`, currency: true }],
  },
  invoices: {
    rows: `select ${period('paid_at')} as period, coalesce(f.currency, '') as currency, pc.owner, pc.customer_id, f.connection_id,
        coalesce(f.amount_paid, 0) as paid, extract(epoch from f.paid_at - f.issued_at) / 86400 as days
      from ${inRanges('invoices', 'paid_at')} ${CUSTOMER_OF}
      where f.status is distinct from 'void'`,
    dims: ['workspace', 'owner', 'customer', 'connection'],
    currency: 'both',
    aggregates: `count(*) as n, sum(paid)::float8 as paid, count(customer_id) as with_customer, count(distinct customer_id) as customers, ${stats('days')}`,
    outputs: [
      { metric: 'paid_invoices', value: 'a.n', count: 'a.n', inputs: `jsonb_build_object('sum', a.paid)`, currency: true },
      { metric: 'purchase_frequency', value: 'a.with_customer::float8 / a.customers', count: 'a.with_customer', inputs: ratioInputs('a.with_customer', 'a.customers'), currency: false, where: 'a.customers > 0' },
      { metric: 'days_to_pay', value: 'a.p50', count: 'a.measured', inputs: statsInputs, currency: false, where: 'a.measured > 0' },
    ],
  },
  invoices_due: {
    rows: `select ${period('due_at')} as period, coalesce(f.currency, '') as currency, pc.owner, pc.customer_id, f.connection_id,
        greatest(coalesce(f.amount_due, 0) - coalesce(f.amount_paid, 0), 0) as outstanding
      from ${inRanges('invoices', 'due_at')} ${CUSTOMER_OF}
      where f.due_at < now() and f.paid_at is null and coalesce(f.status, 'open') not in ('paid', 'void', 'draft')`,
    dims: ['workspace', 'owner', 'customer', 'connection'],
    currency: 'per_currency',
    aggregates: 'count(*) as n, sum(outstanding)::float8 as outstanding',
    outputs: [{ metric: 'overdue_invoices', value: 'a.n', count: 'a.n', inputs: `jsonb_build_object('amount', a.outstanding)`, currency: true }],
  },
  deals_closed: {
    rows: `select ${period('closed_at')} as period, coalesce(f.currency, '') as currency, f.owner, pc.customer_id, f.connection_id,
        f.status in ('won', 'completed') as done, case when f.status in ('won', 'completed') then f.amount end as amount,
        case when f.status in ('won', 'completed') then extract(epoch from f.closed_at - f.created_at) / 3600 end as hours
      from ${inRanges('deals', 'closed_at')} ${CUSTOMER_OF}
      where f.status in ('won', 'completed', 'lost')`,
    dims: ['workspace', 'owner', 'customer', 'connection'],
    currency: 'both',
    aggregates: `count(*) as closed, count(*) filter (where done) as done, count(amount) as priced, sum(amount)::float8 as amount_sum, ${stats('hours')}`,
    outputs: [
      { metric: 'closed_jobs', value: 'a.closed', count: 'a.closed', inputs: `'{}'::jsonb`, currency: false },
      { metric: 'completed_jobs', value: 'a.done', count: 'a.done', inputs: `'{}'::jsonb`, currency: false },
      { metric: 'completion_rate', value: 'a.done::float8 / a.closed', count: 'a.closed', inputs: ratioInputs('a.done', 'a.closed'), currency: false },
      { metric: 'job_turnaround_time', value: 'a.p50', count: 'a.measured', inputs: statsInputs, currency: false, where: 'a.measured > 0' },
      { metric: 'average_deal_amount', value: 'a.amount_sum / a.priced', count: 'a.priced', inputs: `jsonb_build_object('sum', a.amount_sum, 'count', a.priced)`, currency: true, where: `a.priced > 0 and a.currency <> ''` },
    ],
  },
  deals_open: {
    rows: `select ${period('created_at')} as period, pc.customer_id, f.connection_id
      from ${inRanges('deals', 'created_at')} ${CUSTOMER_OF}
      where coalesce(f.status, 'open') = 'open' and coalesce(f.owner, '') = ''`,
    dims: ['workspace', 'customer', 'connection'],
    currency: 'none',
    aggregates: 'count(*) as n',
    outputs: [{ metric: 'ownerless_open_deals', value: 'a.n', count: 'a.n', inputs: `'{}'::jsonb`, currency: false }],
  },
  tasks: {
    rows: `select ${period('due_at')} as period, f.owner, pc.customer_id, f.connection_id,
        f.completed_at is not null and f.completed_at <= f.due_at as on_time,
        f.status = 'open' and coalesce(f.owner, '') = '' as ownerless_open
      from ${inRanges('tasks', 'due_at')} ${CUSTOMER_OF}
      where f.status is distinct from 'canceled'`,
    dims: ['workspace', 'owner', 'customer', 'connection'],
    currency: 'none',
    aggregates: 'count(*) as due, count(*) filter (where on_time) as on_time, count(*) filter (where ownerless_open) as ownerless',
    outputs: [
      { metric: 'tasks_due', value: 'a.due', count: 'a.due', inputs: `'{}'::jsonb`, currency: false },
      { metric: 'tasks_completed_on_time', value: 'a.on_time', count: 'a.on_time', inputs: `'{}'::jsonb`, currency: false },
      { metric: 'task_completion_rate', value: 'a.on_time::float8 / a.due', count: 'a.due', inputs: ratioInputs('a.on_time', 'a.due'), currency: false },
      { metric: 'ownerless_open_tasks', value: 'a.ownerless', count: 'a.ownerless', inputs: `'{}'::jsonb`, currency: false, where: 'a.ownerless > 0' },
    ],
  },
  satisfaction: {
    rows: `select ${period('answered_at')} as period, pc.owner, pc.customer_id, f.connection_id,
        f.score as score, f.score / coalesce(nullif(f.scale, 0), 5) as share
      from ${inRanges('satisfaction_responses', 'answered_at')} ${CUSTOMER_OF}
      where f.score is not null`,
    dims: ['workspace', 'owner', 'customer', 'connection'],
    currency: 'none',
    aggregates: 'count(*) as n, avg(share)::float8 as share, avg(score)::float8 as score',
    outputs: [{ metric: 'csat', value: 'a.share', count: 'a.n', inputs: `jsonb_build_object('mean_score', a.score)`, currency: false }],
  },
  costs: {
    rows: `select ${period('incurred_at')} as period, coalesce(f.currency, '') as currency, f.connection_id, coalesce(f.amount, 0) as amount
      from ${inRanges('costs', 'incurred_at')}`,
    dims: ['workspace', 'connection'],
    currency: 'per_currency',
    aggregates: 'count(*) as n, sum(amount)::float8 as amount',
    outputs: [{ metric: 'costs', value: 'a.amount', count: 'a.n', inputs: `jsonb_build_object('sum', a.amount)`, currency: true }],
  },
};

/**
 * Revenue by week and by month, but per customer, is the sum of its days: amounts are whole
 * minor units, so float sums of them are exact and equal to summing the payments (a rebuild
 * takes the same path, so the two cannot differ). Read from the day rows just written (a
 * month is 30 days × a few dimension values), not from a month of payments again. Per-customer
 * month rows come from the payments of the customers being recomputed, through their references.
 */
function paymentsByPeriodStatements(grain: string, context: FamilyContext): string[] {
  const fromDays = `
    insert into rollup_fresh (metric, period_start, dimension, dimension_value, currency, value, count, inputs)
    select 'revenue', r.period, d.dimension, d.dimension_value, d.currency, sum(d.value), sum(d.count),
      jsonb_build_object('sum', sum(d.value), 'refunded', sum((d.inputs->>'refunded')::float8))
    from rollup_ranges r
    join canonical.metric_rollups d on d.workspace_id = $1 and d.grain = 'day' and d.metric = 'revenue'
      and d.period_start >= r.period and d.period_start < (r.period + ('1 ' || $3)::interval)::date
    where $2::text is not null
    group by r.period, d.dimension, d.dimension_value, d.currency`;
  if (!CUSTOMER_GRAINS.includes(grain)) return [fromDays];
  const rows = context.customersScoped
    ? `select ${period('paid_at')} as period, coalesce(f.currency, '') as currency, pc.owner, pc.customer_id, f.connection_id,
        coalesce(f.amount, 0) - coalesce(f.refunded_amount, 0) as net, coalesce(f.refunded_amount, 0) as refunded
      from rollup_ranges r cross join rollup_customers c
      join hub.customer_refs pc on pc.workspace_id = $1 and pc.customer_id = c.customer_id
      cross join lateral (
        select * from canonical.payments f where f.workspace_id = $1 and f.connection_id = pc.connection_id and f.customer_ref = pc.external_id
          and f.paid_at >= r.lo and f.paid_at < r.hi and f.deleted_at is null offset 0) f`
    : SPECS.payments.rows;
  return [fromDays, statement({ ...SPECS.payments, rows, dims: ['customer'], customersOnly: true }, grain, context)];
}

/**
 * First response per thread whose first inbound message falls in the ranges: the thread's
 * first inbound message and the first outbound one after it, from hub.thread_firsts, which the
 * drain keeps for the threads that changed.
 */
function messagesStatement(context: FamilyContext, grain: string): string {
  // Business hours: hub.business_seconds() written out in place (a lateral over the local days
  // between the two times): called as a function it cost 50 µs a thread in executor set-up.
  const hours = context.businessHours;
  const elapsed = hours ? 'bh.seconds' : 'extract(epoch from t.first_out - t.first_in)';
  const businessSeconds = !hours ? '' : `
      cross join lateral (
        select coalesce(sum(extract(epoch from least(t.first_out, (d + '${hours.end}'::time) at time zone $2) - greatest(t.first_in, (d + '${hours.start}'::time) at time zone $2))), 0) as seconds
        from generate_series((t.first_in at time zone $2)::date::timestamp, (t.first_out at time zone $2)::date::timestamp, interval '1 day') d
        where extract(isodow from d)::int = any('{${hours.days.join(',')}}'::int[])
          and least(t.first_out, (d + '${hours.end}'::time) at time zone $2) > greatest(t.first_in, (d + '${hours.start}'::time) at time zone $2)) bh`;
  return statement({
    rows: `
      select date_trunc($3, t.first_in at time zone $2)::date as period, t.connection_id,
        case when t.first_out is not null then ${elapsed} end as seconds, t.first_out is null as unanswered
      from rollup_ranges r cross join lateral (
        select * from hub.thread_firsts t where t.workspace_id = $1 and t.first_in >= r.lo and t.first_in < r.hi offset 0) t
      ${businessSeconds}`,
    dims: ['workspace', 'connection'],
    currency: 'none',
    aggregates: `count(*) filter (where unanswered) as unanswered, ${stats('seconds')}`,
    outputs: [
      { metric: 'first_response_time', value: 'a.p50', count: 'a.measured', inputs: statsInputs, currency: false, where: 'a.measured > 0' },
      { metric: 'unanswered_threads', value: 'a.unanswered', count: 'a.unanswered', inputs: `'{}'::jsonb`, currency: false },
    ],
  }, grain, context);
}

/**
 * Customer lifecycle over payments (net of refunds above zero) of resolved golden customers.
 * For each period in rollup_ranges: active = paid in it; new = first payment ever in it;
 * returning = active − new; retention = share of the previous period's active who are
 * active again. One statement over the active sets the drain keeps (hub.customer_activity,
 * with each customer's first-payment period flagged), so no period's payments are read here.
 */
const CUSTOMERS_STATEMENTS = [
  // Who paid in each period being recomputed (t) and in the period before it (p), and whose
  // first payment it holds, from hub.customer_activity, which the drain keeps.
  `with t as (
    select r.period, a.customer_id, a.owner, a.first
    from rollup_ranges r join hub.customer_activity a on a.workspace_id = $1 and a.grain = $3 and a.period_start = r.period
  ),
  p as (
    select r.period, a.customer_id, a.owner
    from rollup_ranges r join hub.customer_activity a on a.workspace_id = $1 and a.grain = $3 and a.period_start = (r.period - ('1 ' || $3)::interval)::date
  ),
  marked as (
    select coalesce(t.period, p.period) as period, coalesce(t.owner, p.owner) as owner,
      t.customer_id is not null as active, p.customer_id is not null as was_active,
      coalesce(t.first, false) as is_new
    from t
    full join p on p.period = t.period and p.customer_id = t.customer_id
    where $2::text is not null
  ),
  agg as (
    select period, case when grouping(owner) = 0 then 'owner' else 'workspace' end as dimension,
      case when grouping(owner) = 0 then coalesce(owner, '') else '' end as dimension_value,
      count(*) filter (where active) as active, count(*) filter (where is_new) as new_customers,
      count(*) filter (where was_active) as previous, count(*) filter (where active and was_active) as retained
    from marked group by grouping sets ((period), (period, owner))
  )
  insert into rollup_fresh (metric, period_start, dimension, dimension_value, currency, value, count, inputs)
  select 'active_customers', a.period, a.dimension, a.dimension_value, '', a.active, a.active, '{}'::jsonb from agg a where a.active > 0
  union all
  select 'new_customers', a.period, a.dimension, a.dimension_value, '', a.new_customers, a.new_customers, '{}'::jsonb from agg a where a.active > 0
  union all
  select 'returning_customers', a.period, a.dimension, a.dimension_value, '', a.active - a.new_customers, a.active - a.new_customers, '{}'::jsonb from agg a where a.active > 0
  union all
  select 'retention_rate', a.period, a.dimension, a.dimension_value, '', a.retained::float8 / a.previous, a.previous,
    jsonb_build_object('numerator', a.retained, 'denominator', a.previous) from agg a where a.previous > 0`,
];

/**
 * Ratios across families, from the base rollups just written: average_check = revenue ÷
 * paid_invoices, cost_per_job = costs ÷ completed_jobs, same period, dimension and currency.
 */
const derivedStatement = (context: FamilyContext) => `
  insert into rollup_fresh (metric, period_start, dimension, dimension_value, currency, value, count, inputs)
  select 'average_check', i.period_start, i.dimension, i.dimension_value, i.currency, coalesce(rv.value, 0) / i.value, i.count,
    jsonb_build_object('numerator', coalesce(rv.value, 0), 'denominator', i.value)
  from rollup_ranges r
  join canonical.metric_rollups i on $2::text is not null and i.workspace_id = $1 and i.grain = $3 and i.metric = 'paid_invoices' and i.period_start = r.period and i.value > 0
    ${context.customersScoped ? `and (i.dimension <> 'customer' or i.dimension_value in (select customer_id::text from rollup_customers))` : ''}
  left join canonical.metric_rollups rv on rv.workspace_id = $1 and rv.grain = $3 and rv.metric = 'revenue' and rv.period_start = i.period_start
    and rv.dimension = i.dimension and rv.dimension_value = i.dimension_value and rv.currency = i.currency
  union all
  select 'cost_per_job', c.period_start, c.dimension, c.dimension_value, c.currency, c.value / j.value, j.count,
    jsonb_build_object('numerator', c.value, 'denominator', j.value)
  from rollup_ranges r
  join canonical.metric_rollups c on $2::text is not null and c.workspace_id = $1 and c.grain = $3 and c.metric = 'costs' and c.period_start = r.period
  join canonical.metric_rollups j on j.workspace_id = $1 and j.grain = $3 and j.metric = 'completed_jobs' and j.period_start = c.period_start
    and j.dimension = c.dimension and j.dimension_value = c.dimension_value and j.currency = '' and j.value > 0`;

/** Runs one family for one grain over the ranges in rollup_ranges, into rollup_fresh. */
export async function computeFamily(tx: Sql, family: Family, workspaceId: string, timeZone: string, grain: string, context: FamilyContext): Promise<void> {
  if (family === 'customers') {
    for (const text of CUSTOMERS_STATEMENTS) await tx.unsafe(text, text.includes('$1') ? [workspaceId, timeZone, grain] : []);
    return;
  }
  if (family === 'payments' && grain !== 'day') {
    for (const text of paymentsByPeriodStatements(grain, context)) await tx.unsafe(text, [workspaceId, timeZone, grain]);
    return;
  }
  const text = family === 'messages' ? messagesStatement(context, grain) : family === 'derived' ? derivedStatement(context) : statement(SPECS[family], grain, context);
  await tx.unsafe(text, [workspaceId, timeZone, grain]);
}

/**
 * The dirty-mark families whose times a family recomputes (migration 0008 marks each time
 * column under the family that reads it; `customers` marks are first payments that moved).
 */
export const FAMILY_SOURCES: Record<Family, { dirty: string[] }> = {
  payments: { dirty: ['payments'] },
  invoices: { dirty: ['invoices'] },
  invoices_due: { dirty: ['invoices_due'] },
  deals_closed: { dirty: ['deals_closed'] },
  deals_open: { dirty: ['deals_open'] },
  tasks: { dirty: ['tasks'] },
  messages: { dirty: ['threads'] },
  satisfaction: { dirty: ['satisfaction'] },
  costs: { dirty: ['costs'] },
  customers: { dirty: ['payments', 'customers', 'payers', 'links', 'people'] },
  derived: { dirty: ['payments', 'invoices', 'costs', 'deals_closed'] },
};
