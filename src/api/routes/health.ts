import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { migrationsAreCurrent } from '../../db/index.js';
import { json, type AppEnv } from '../shared.js';

const healthSchema = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.string()).optional() }).openapi('Health');

export const healthRoutes = new OpenAPIHono<AppEnv>()
  .openapi(createRoute({ method: 'get', path: '/healthz', tags: ['health'], summary: 'The process is up', responses: { 200: json(healthSchema, 'Alive') } }), (c) =>
    c.json({ status: 'ok' as const }, 200),
  )
  .openapi(
    createRoute({
      method: 'get', path: '/readyz', tags: ['health'], summary: 'The database is reachable and migrations are current',
      responses: { 200: json(healthSchema, 'Ready'), 503: json(healthSchema, 'Not ready') },
    }),
    async (c) => {
      const { sql } = c.get('hub');
      const reachable = await sql`select 1`.then(() => true, () => false);
      const current = reachable && (await migrationsAreCurrent(sql));
      const checks = { database: reachable ? 'ok' : 'unreachable', migrations: current ? 'current' : 'pending' };
      return reachable && current ? c.json({ status: 'ok' as const, checks }, 200) : c.json({ status: 'unavailable' as const, checks }, 503);
    },
  );
