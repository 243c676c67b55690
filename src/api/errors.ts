import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HubError } from '../core/errors.js';
import type { Logger } from '../log.js';
import { toErrorBody } from './shared.js';

// The one place that turns errors into {"error": {...}}.

export function errorHandler(log: Logger) {
  return (error: Error, c: Context) => {
    if (error instanceof HubError) return c.json(toErrorBody(error), error.status as ContentfulStatusCode);
    if (error instanceof HTTPException) {
      const code = error.status === 413 ? 'payload_too_large' : error.status === 400 ? 'invalid_request' : 'http_error';
      return c.json(toErrorBody(new HubError(code, error.status, error.message || 'The request was refused.')), error.status);
    }
    log.error({ err: { message: error.message, stack: error.stack }, path: c.req.path }, 'unhandled error');
    return c.json(toErrorBody(new HubError('internal_error', 500, 'Something went wrong on our side; the error was logged.')), 500);
  };
}

/** zod-openapi calls this when a request fails its schema: 400 with every issue. */
export function validationHook(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string; code: string }[] }; target?: string }, c: Context) {
  if (result.success) return;
  const issues = result.error!.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message, code: issue.code }));
  const summary = issues.map((issue) => `${issue.path || 'body'}: ${issue.message}`).join('; ');
  return c.json(toErrorBody(new HubError('invalid_request', 400, `The ${result.target ?? 'request'} is not valid: ${summary}.`, issues)), 400);
}
