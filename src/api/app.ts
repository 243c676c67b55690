import { OpenAPIHono } from '@hono/zod-openapi';
import type { HubContext } from '../core/context.js';
import { HubError } from '../core/errors.js';
import { requireApiKey } from './auth.js';
import { renderDocs } from './docs.js';
import { errorHandler, validationHook } from './errors.js';
import { connectionRoutes } from './routes/connections.js';
import { connectorRoutes } from './routes/connectors.js';
import { eventRoutes } from './routes/events.js';
import { customerRoutes, matchCandidateRoutes, organizationRoutes } from './routes/golden.js';
import { healthRoutes } from './routes/health.js';
import { metricRoutes } from './routes/metrics.js';
import { syncRunRoutes } from './routes/sync-runs.js';
import { webhookRoutes } from './routes/webhooks.js';
import { toErrorBody, type AppEnv } from './shared.js';

const API_INFO = {
  title: 'Hub',
  version: '1',
  description: 'Integration hub for service businesses. Authenticate with "Authorization: Bearer hub_…". Errors are {"error": {"code", "message", "details"}}; lists page with ?limit=&cursor= → next_cursor.',
};

export function createApp(context: HubContext) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook as never });
  app.use('*', async (c, next) => {
    c.set('hub', context);
    await next();
  });
  app.use('/v1/*', requireApiKey);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'An API key: hub_…' });

  app.route('/', healthRoutes);
  app.route('/', connectorRoutes);
  app.route('/', connectionRoutes);
  app.route('/', syncRunRoutes);
  app.route('/', customerRoutes);
  app.route('/', organizationRoutes);
  app.route('/', matchCandidateRoutes);
  app.route('/', webhookRoutes);
  app.route('/', eventRoutes);
  app.route('/', metricRoutes);

  const document = () => app.getOpenAPI31Document({ openapi: '3.1.0', info: API_INFO });
  app.get('/openapi.json', (c) => c.json(document()));
  app.get('/docs', (c) => c.html(renderDocs(document() as never)));
  app.notFound((c) => c.json(toErrorBody(new HubError('not_found', 404, `No route for ${c.req.method} ${c.req.path}.`)), 404));
  app.onError(errorHandler(context.log));
  return app;
}
