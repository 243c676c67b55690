import type { HubConfig } from '../config.js';
import type { Sql } from '../db/index.js';
import type { Logger } from '../log.js';
import type { ConnectorRegistry } from './ingest/contract.js';

/** What core functions need from the process that runs them; built once in src/main.ts or a test. */
export interface HubContext {
  sql: Sql;
  config: HubConfig;
  log: Logger;
  masterKey: Buffer;
  connectors: ConnectorRegistry;
}
