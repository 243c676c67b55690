import { z } from 'zod';
import type { Sql } from '../../db/index.js';
import { badRequest } from '../errors.js';
import { decodeCursor, toPage, type PageRequest } from '../pagination.js';
import { definitionOf, type Dimension } from './definitions.js';
import { CUSTOMER_GRAINS } from './families.js';
import { loadMetricSettings } from './index.js';

// Reading rollups: /v1/metrics.

export interface MetricQuery {
  metric: string;
  grain: 'day' | 'week' | 'month';
  dimension: Dimension;
  dimension_value?: string;
  currency?: string;
  from?: string;
  to?: string;
}

const metricCursor = z.tuple([z.iso.date(), z.string(), z.string()]);

interface RollupRow {
  period_start: string;
  period_end: string;
  dimension_value: string;
  currency: string;
  value: number | null;
  count: string;
  inputs: Record<string, unknown>;
  updated_at: Date;
}

export async function listMetrics(sql: Sql, workspaceId: string, query: MetricQuery, page: PageRequest) {
  const definition = definitionOf(query.metric)!;
  if (!definition.dimensions.includes(query.dimension)) {
    throw badRequest(`${query.metric} is not kept by ${query.dimension}; it is kept by ${definition.dimensions.join(', ')}.`, { dimension: definition.dimensions });
  }
  if (query.dimension === 'customer' && !CUSTOMER_GRAINS.includes(query.grain)) throw badRequest(`Per-customer rollups are kept by ${CUSTOMER_GRAINS.join(', ')}: use grain=month (or bi.payments and the other fact views for finer detail).`);
  if (query.from && query.to && query.from > query.to) throw badRequest('from must not be after to.');
  if (query.currency && !definition.perCurrency) throw badRequest(`${query.metric} is not an amount: it has no currency.`);
  const after = decodeCursor(page.cursor, metricCursor);
  const { time_zone: timeZone } = await loadMetricSettings(sql, workspaceId);
  const rows = await sql<RollupRow[]>`
    select period_start::text, (period_start + ('1 ' || grain)::interval - interval '1 day')::date::text as period_end,
      dimension_value, currency, value, count::text, inputs, updated_at
    from canonical.metric_rollups
    where workspace_id = ${workspaceId} and metric = ${query.metric} and grain = ${query.grain} and dimension = ${query.dimension}
      ${query.dimension_value === undefined ? sql`` : sql`and dimension_value = ${query.dimension_value}`}
      ${query.currency === undefined ? sql`` : sql`and currency = ${query.currency}`}
      ${query.from ? sql`and period_start >= date_trunc(${query.grain}, ${query.from}::date)::date` : sql``}
      ${query.to ? sql`and period_start <= ${query.to}::date` : sql``}
      ${after ? sql`and (period_start, dimension_value, currency) > (${after[0]}::date, ${after[1]}, ${after[2]})` : sql``}
    order by period_start, dimension_value, currency
    limit ${page.limit + 1}`;
  const result = toPage(rows, page.limit, (row) => [row.period_start, row.dimension_value, row.currency], (row) => ({
    metric: query.metric,
    grain: query.grain,
    period_start: row.period_start,
    period_end: row.period_end,
    dimension: query.dimension,
    dimension_value: row.dimension_value,
    currency: row.currency,
    value: row.value,
    count: Number(row.count),
    inputs: row.inputs,
    updated_at: row.updated_at.toISOString(),
  }));
  return { ...result, time_zone: timeZone, unit: definition.unit };
}
