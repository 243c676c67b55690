import type { HubConfig } from '../config.js';
import type { Db, Sql } from '../db/index.js';
import type { Logger } from '../log.js';
import type { ConnectorRegistry } from './ingest/contract.js';

/** What core functions need from the process that runs them; built once in src/main.ts or a test. */
export interface HubContext {
  sql: Sql;
  db: Db;
  config: HubConfig;
  log: Logger;
  masterKey: Buffer;
  connectors: ConnectorRegistry;
}
