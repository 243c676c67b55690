import type { ConnectorRegistry } from '../core/ingest/index.js';
import { csvConnector } from './csv/index.js';

/** Every connector the hub knows, by kind. Adding one: a folder here and a line below. */
export const connectors: ConnectorRegistry = {
  [csvConnector.kind]: csvConnector,
};
