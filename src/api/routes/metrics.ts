import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { METRIC_DIMENSIONS, METRIC_GRAINS } from '../../db/schema/rollups.js';
import { enqueueDerive } from '../../core/ingest/changes.js';
import { reconcileSettingsSchema } from '../../core/reconcile/index.js';
import { METRIC_NAMES, METRICS } from '../../core/rollups/definitions.js';
import { businessHoursSchema, loadMetricSettings, markAllStale, timeZoneSchema } from '../../core/rollups/index.js';
import { listMetrics } from '../../core/rollups/service.js';
import { badRequest, notFound } from '../../core/errors.js';
import { errorResponses, hub, json, jsonBody, pageQuery, principal, type AppEnv } from '../shared.js';

const secured = { security: [{ bearer: [] }], tags: ['metrics'] };

const rollupSchema = z
  .object({
    metric: z.string().openapi({ example: 'revenue' }),
    grain: z.enum(METRIC_GRAINS),
    period_start: z.string().openapi({ description: 'First local day of the period (a Monday for weeks).', example: '2026-03-01' }),
    period_end: z.string().openapi({ description: 'Last local day of the period.', example: '2026-03-31' }),
    dimension: z.enum(METRIC_DIMENSIONS),
    dimension_value: z.string().openapi({ description: 'Owner, golden customer id or connection id; "" for the workspace (and for "no owner").' }),
    currency: z.string().openapi({ description: 'ISO 4217 for amounts, "" otherwise.', example: 'USD' }),
    value: z.number().nullable(),
    count: z.number(),
    inputs: z.record(z.string(), z.unknown()).openapi({ description: 'sum / numerator / denominator / p50 / p90 / mean, as the metric\'s definition says.' }),
    updated_at: z.string(),
  })
  .openapi('MetricRollup');

const metricsQuery = pageQuery.extend({
  metric: z.enum(METRIC_NAMES).openapi({ description: 'A metric name from /v1/metrics/definitions.' }),
  grain: z.enum(METRIC_GRAINS).default('month'),
  dimension: z.enum(METRIC_DIMENSIONS).default('workspace'),
  dimension_value: z.string().optional().openapi({ description: 'Only this owner / customer id / connection id.' }),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD').optional(),
  from: z.iso.date().optional().openapi({ description: 'Periods containing or after this local date (YYYY-MM-DD).' }),
  to: z.iso.date().optional().openapi({ description: 'Periods starting on or before this local date.' }),
});

const definitionSchema = z
  .object({
    name: z.string(), value: z.string(), unit: z.string(), per_currency: z.boolean(), dimensions: z.array(z.string()), definition: z.string(),
  })
  .openapi('MetricDefinition');

const workspaceSettingsSchema = z
  .object({
    time_zone: timeZoneSchema.optional(),
    business_hours: businessHoursSchema.optional(),
    reconcile: z.record(z.string(), z.unknown()).optional().openapi({ description: 'Reconciliation settings to change (phone_region, auto_threshold, review_threshold, guard_threshold, survivorship, trusted_sources); they take effect on the next run (`hub reconcile --full` re-runs everything).' }),
  })
  .strict();

const workspaceSchema = z
  .object({ id: z.string(), name: z.string(), settings: z.record(z.string(), z.unknown()) })
  .openapi('Workspace');

const workspacePatch = z.object({ name: z.string().min(1).max(200).optional(), settings: workspaceSettingsSchema.optional() }).strict().openapi('WorkspacePatch');

async function readWorkspace(sql: import('../../db/index.js').Sql, workspaceId: string) {
  const [row] = await sql<{ id: string; name: string; settings: Record<string, unknown> }[]>`select id, name, settings from hub.workspaces where id = ${workspaceId}`;
  if (!row) throw notFound('The workspace');
  const metrics = await loadMetricSettings(sql, workspaceId);
  return { id: row.id, name: row.name, settings: { ...row.settings, time_zone: metrics.time_zone, business_hours: metrics.business_hours } };
}

export const metricRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      ...secured, method: 'get', path: '/v1/metrics', summary: 'Metric rollups: one metric, grain and dimension, by period',
      request: { query: metricsQuery },
      responses: {
        200: json(z.object({ data: z.array(rollupSchema), next_cursor: z.string().nullable(), time_zone: z.string(), unit: z.string() }).openapi('MetricPage'), 'A page of rollups, oldest period first'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { limit, cursor, ...query } = c.req.valid('query');
      return c.json(await listMetrics(hub(c).sql, principal(c).workspaceId, query, { limit, cursor }), 200);
    },
  )
  .openapi(
    createRoute({
      ...secured, method: 'get', path: '/v1/metrics/definitions', summary: 'Every metric with its exact definition',
      responses: { 200: json(z.object({ data: z.array(definitionSchema), grains: z.array(z.string()), dimensions: z.array(z.string()) }), 'The metric pack'), ...errorResponses },
    }),
    (c) => c.json({
      data: METRICS.map((metric) => ({ name: metric.name, value: metric.value, unit: metric.unit, per_currency: metric.perCurrency, dimensions: metric.dimensions, definition: metric.definition })),
      grains: [...METRIC_GRAINS],
      dimensions: [...METRIC_DIMENSIONS],
    }, 200),
  )
  .openapi(
    createRoute({ ...secured, tags: ['workspace'], method: 'get', path: '/v1/workspace', summary: 'This key\'s workspace and its settings', responses: { 200: json(workspaceSchema, 'The workspace'), ...errorResponses } }),
    async (c) => c.json(await readWorkspace(hub(c).sql, principal(c).workspaceId), 200),
  )
  .openapi(
    createRoute({
      ...secured, tags: ['workspace'], method: 'patch', path: '/v1/workspace', summary: 'Rename the workspace or change its settings (time zone, business hours, reconciliation)',
      description: 'A new time zone or business hours rebuilds every metric rollup in the background.',
      request: { body: jsonBody(workspacePatch) }, responses: { 200: json(workspaceSchema, 'The workspace'), ...errorResponses },
    }),
    async (c) => {
      const { workspaceId } = principal(c);
      const body = c.req.valid('json');
      await hub(c).sql.begin(async (transaction) => {
        const tx = transaction as never as import('../../db/index.js').Sql;
        const before = await loadMetricSettings(tx, workspaceId);
        if (body.name) await tx`update hub.workspaces set name = ${body.name} where id = ${workspaceId}`;
        const { reconcile, ...metrics } = body.settings ?? {};
        const patch: Record<string, unknown> = { ...metrics };
        if (reconcile) {
          const [row] = await tx<{ reconcile: Record<string, unknown> | null }[]>`select settings->'reconcile' as reconcile from hub.workspaces where id = ${workspaceId}`;
          const merged = reconcileSettingsSchema.safeParse({ ...(row?.reconcile ?? {}), ...reconcile });
          if (!merged.success) throw badRequest('settings.reconcile is not valid.', merged.error.issues);
          patch.reconcile = merged.data;
        }
        if (Object.keys(patch).length > 0) await tx`update hub.workspaces set settings = settings || ${tx.json(patch as never)} where id = ${workspaceId}`;
        const after = await loadMetricSettings(tx, workspaceId);
        if (JSON.stringify(before) !== JSON.stringify(after)) {
          await markAllStale(tx, workspaceId);
          await enqueueDerive(tx, workspaceId);
        }
      });
      return c.json(await readWorkspace(hub(c).sql, workspaceId), 200);
    },
  );
