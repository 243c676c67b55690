import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { HubContext } from '../core/context.js';
import type { Principal } from '../core/auth/index.js';
import { HubError } from '../core/errors.js';

// What every route file shares: the env type, the error body, pagination, and a tiny helper set.

export type AppEnv = { Variables: { principal: Principal; hub: HubContext } };

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'not_found' }),
      message: z.string().openapi({ example: 'Connection 5f0c… was not found in this workspace.' }),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

export const errorResponses = {
  400: { description: 'The request is not valid; details lists each problem.', content: { 'application/json': { schema: errorSchema } } },
  401: { description: 'No valid API key.', content: { 'application/json': { schema: errorSchema } } },
  403: { description: 'The key may only read.', content: { 'application/json': { schema: errorSchema } } },
  404: { description: 'Not found in this workspace.', content: { 'application/json': { schema: errorSchema } } },
} as const;

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ description: 'Items per page (1–200).' }),
  cursor: z.string().optional().openapi({ description: 'next_cursor from the previous page.' }),
});

export const pageOf = <T extends z.ZodTypeAny>(item: T, name: string) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() }).openapi(name);

export const idParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '5f0c2a52-8a63-4a3f-9a49-5b7a6a6f3c11' }) });

export const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
export const jsonBody = <T extends z.ZodTypeAny>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });

export const principal = (c: Context<AppEnv>) => c.get('principal');
export const hub = (c: Context<AppEnv>) => c.get('hub');

export function toErrorBody(error: HubError) {
  return { error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) } };
}
