/** The one error type of the core: a code, an HTTP status and a sentence an owner can act on. */
export class HubError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

export const notFound = (what: string) => new HubError('not_found', 404, `${what} was not found in this workspace.`);
export const badRequest = (message: string, details?: unknown) => new HubError('invalid_request', 400, message, details);
export const conflict = (code: string, message: string, details?: unknown) => new HubError(code, 409, message, details);

/** A source refused our credentials: the connection needs an owner to reconnect it. */
export class SourceAuthError extends HubError {
  constructor(message: string, details?: unknown) {
    super('source_auth_failed', 502, message, details);
  }
}

/** A source failed in a way retries did not fix. */
export class SourceError extends HubError {
  constructor(message: string, details?: unknown) {
    super('source_failed', 502, message, details);
  }
}
