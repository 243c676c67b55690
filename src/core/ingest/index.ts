export * from './contract.js';
export { HubError, SourceAuthError, SourceError } from '../errors.js';
export { createHttpClient, retryDelayMs, type HttpClient, type RetryPolicy } from './http.js';
export { runSync, contentHash, type SyncProgress } from './engine.js';
export * from './runs.js';
export { factTableList } from './facts.js';
export { listQuarantine } from './quarantine.js';
