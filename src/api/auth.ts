import type { MiddlewareHandler } from 'hono';
import { authenticate } from '../core/auth/index.js';
import { HubError } from '../core/errors.js';
import type { AppEnv } from './shared.js';

/** Bearer API key → principal; read keys may only read. */
export const requireApiKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new HubError('unauthorized', 401, 'Send an API key as "Authorization: Bearer hub_…".');
  const principal = await authenticate(c.get('hub').sql, match[1]);
  if (!principal) throw new HubError('unauthorized', 401, 'The API key is not valid or was revoked.');
  if (principal.role !== 'admin' && !['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) {
    throw new HubError('forbidden', 403, 'This API key may only read; use an admin key to make changes.');
  }
  c.set('principal', principal);
  await next();
};
