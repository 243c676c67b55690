import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Kind } from '../../core/reconcile/model.js';
import { getGolden, listGolden, listMatchCandidates, mergeGolden, neverMergeGolden, splitGolden } from '../../core/reconcile/service.js';
import { errorResponses, hub, idParam, json, jsonBody, pageOf, pageQuery, principal, type AppEnv } from '../shared.js';

// Golden customers and organizations: read, search, and the admin overrides.

const secured = { security: [{ bearer: [] }] };

const fieldSource = z.object({ source_record_id: z.number(), connection_id: z.string(), rule: z.string() });

const evidenceSchema = z.array(z.object({ field: z.string(), level: z.string(), weight: z.number(), value: z.string().optional() }))
  .openapi('MatchEvidence', { description: 'Field by field: the comparison level and its match weight (log2 Bayes factor); the pair scores their sum.' });

const recordSchema = z.object({
  source_record_id: z.string(), connection_id: z.string(), connection_name: z.string(), connection_kind: z.string(), stream: z.string(), external_id: z.string(),
  link: z.object({ rule: z.enum(['anchor', 'auto', 'admin']), score: z.number().nullable(), evidence: evidenceSchema.nullable(), linked_by: z.string(), linked_at: z.string() }),
  fact: z.record(z.string(), z.unknown()),
});

const common = {
  id: z.string(), name: z.string().nullable(), phones: z.array(z.string()), record_count: z.number(),
  sources: z.record(z.string(), fieldSource).openapi({ description: 'Per golden field: the source record it came from and the survivorship rule that chose it.' }),
  first_seen_at: z.string(), created_at: z.string(), updated_at: z.string(),
};

const customerSchema = z.object({
  ...common, emails: z.array(z.string()), organization_id: z.string().nullable(), organization_name: z.string().nullable(), owner: z.string().nullable(),
  birth_date: z.string().nullable(), address: z.string().nullable(), city: z.string().nullable(), postal_code: z.string().nullable(),
}).openapi('Customer');
const organizationSchema = z.object({ ...common, domains: z.array(z.string()), tax_id: z.string().nullable() }).openapi('Organization');

const detailOf = (schema: z.ZodObject, name: string) => schema.extend({
  resolved_from: z.string().optional().openapi({ description: 'Present when the id asked for is an alias (absorbed by a merge): the id asked for.' }),
  records: z.array(recordSchema),
}).openapi(name);

const candidateSchema = z.object({
  score: z.number(), reason: z.enum(['review_band', 'limit', 'guard']).openapi({ description: 'review_band: between the review and auto-merge thresholds; limit: would put two distinct records of one source (e.g. two Stripe customers) together; guard: another pair across the two clusters strongly disagrees.' }),
  a: z.object({ id: z.string(), name: z.string().nullable(), source_record_id: z.string() }),
  b: z.object({ id: z.string(), name: z.string().nullable(), source_record_id: z.string() }),
  evidence: evidenceSchema, created_at: z.string(),
}).openapi('MatchCandidate');

function goldenRoutes(kind: Kind, path: string, tag: string, schema: z.ZodObject, name: string) {
  const detail = detailOf(schema, `${name}Detail`);
  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({ ...secured, tags: [tag], method: 'get', path, summary: `Golden ${tag}, by name; q searches names in either script, emails and phones`, request: { query: pageQuery.extend({ q: z.string().max(200).optional() }) }, responses: { 200: json(pageOf(schema, `${name}Page`), 'A page'), ...errorResponses } }),
      async (c) => {
        const { q, ...page } = c.req.valid('query');
        return c.json(await listGolden(hub(c), principal(c).workspaceId, kind, { q }, page) as never, 200);
      },
    )
    .openapi(
      createRoute({ ...secured, tags: [tag], method: 'get', path: `${path}/{id}`, summary: 'One golden record: fields with their sources, every linked source record with its match evidence. An alias id answers with the survivor (resolved_from, Content-Location).', request: { params: idParam }, responses: { 200: json(detail, 'The record'), ...errorResponses } }),
      async (c) => {
        const record = await getGolden(hub(c), principal(c).workspaceId, kind, c.req.valid('param').id);
        if (record.resolved_from) c.header('Content-Location', `${path}/${record.id}`);
        return c.json(record as never, 200);
      },
    )
    .openapi(
      createRoute({ ...secured, tags: [tag], method: 'post', path: `${path}/merge`, summary: 'Merge golden records into one (an admin decision that survives every re-run)', request: { body: jsonBody(z.object({ ids: z.array(z.string()).min(2).max(20) }).strict()) }, responses: { 200: json(detail, 'The merged record'), ...errorResponses } }),
      async (c) => c.json(await mergeGolden(hub(c), principal(c).workspaceId, kind, c.req.valid('json').ids, principal(c).keyId) as never, 200),
    )
    .openapi(
      createRoute({ ...secured, tags: [tag], method: 'post', path: `${path}/{id}/split`, summary: 'Split source records off into a record of their own (its id is derived from their oldest record)', request: { params: idParam, body: jsonBody(z.object({ source_record_ids: z.array(z.string().regex(/^\d+$/)).min(1).max(500) }).strict()) }, responses: { 200: json(z.object({ data: z.array(detail) }), 'The remaining record first, then the part split off'), ...errorResponses } }),
      async (c) => {
        const parts = await splitGolden(hub(c), principal(c).workspaceId, kind, c.req.valid('param').id, c.req.valid('json').source_record_ids.map(Number), principal(c).keyId);
        return c.json({ data: parts } as never, 200);
      },
    )
    .openapi(
      createRoute({ ...secured, tags: [tag], method: 'post', path: `${path}/never-merge`, summary: 'Record that two golden records are different: they never merge automatically again', request: { body: jsonBody(z.object({ ids: z.tuple([z.string(), z.string()]) }).strict()) }, responses: { 204: { description: 'Stored and applied' }, ...errorResponses } }),
      async (c) => {
        await neverMergeGolden(hub(c), principal(c).workspaceId, kind, c.req.valid('json').ids, principal(c).keyId);
        return c.body(null, 204);
      },
    );
}

export const customerRoutes = goldenRoutes('person', '/v1/customers', 'customers', customerSchema, 'Customer');
export const organizationRoutes = goldenRoutes('organization', '/v1/organizations', 'organizations', organizationSchema, 'Organization');

export const matchCandidateRoutes = new OpenAPIHono<AppEnv>().openapi(
  createRoute({ ...secured, tags: ['customers'], method: 'get', path: '/v1/match-candidates', summary: 'The review queue: pairs not merged automatically, strongest first, with the field-by-field explanation', request: { query: pageQuery.extend({ kind: z.enum(['customer', 'organization']).default('customer') }) }, responses: { 200: json(pageOf(candidateSchema, 'MatchCandidatePage'), 'A page of pairs'), ...errorResponses } }),
  async (c) => {
    const { kind, ...page } = c.req.valid('query');
    return c.json(await listMatchCandidates(hub(c), principal(c).workspaceId, kind === 'customer' ? 'person' : 'organization', page) as never, 200);
  },
);
