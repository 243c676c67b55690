import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { z as zod } from 'zod';
import { errorResponses, hub, json, type AppEnv } from '../shared.js';

const connectorSchema = z
  .object({
    kind: z.string().openapi({ example: 'csv' }),
    title: z.string(),
    description: z.string(),
    reads_files: z.boolean(),
    config_schema: z.record(z.string(), z.unknown()).openapi({ description: 'JSON Schema of the connection config.' }),
    credentials_schema: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('Connector');

export const connectorRoutes = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get', path: '/v1/connectors', tags: ['connectors'], summary: 'Connector kinds, each with its config JSON schema', security: [{ bearer: [] }],
    responses: { 200: json(z.object({ data: z.array(connectorSchema) }), 'Connector kinds'), 401: errorResponses[401] },
  }),
  (c) => {
    const data = Object.values(hub(c).connectors).map((connector) => ({
      kind: connector.kind,
      title: connector.title,
      description: connector.description,
      reads_files: connector.readsFiles ?? false,
      config_schema: zod.toJSONSchema(connector.configSchema, { io: 'input' }) as Record<string, unknown>,
      credentials_schema: connector.credentialsSchema ? (zod.toJSONSchema(connector.credentialsSchema, { io: 'input' }) as Record<string, unknown>) : null,
    }));
    return c.json({ data }, 200);
  },
);
