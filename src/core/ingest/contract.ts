import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { FactKind } from '../../db/schema/canonical.js';
import type { HttpClient } from './http.js';

// The connector contract: a connector is data (schemas, streams) plus how one page
// is fetched and how one record maps. Paging, checkpoints, retries, quarantine and
// tombstones belong to the engine (engine.ts), once, for every connector.

export type { FactKind };

/** A record as the source gave it; `data` is stored raw and hashed. */
export interface SourceRecord {
  externalId: string;
  data: Record<string, unknown>;
  /** Where the record sits in a file (1-based physical line), for quarantine messages. */
  line?: number;
}

/** A record the connector could not even turn into a SourceRecord (bad CSV line, missing key). */
export interface RejectedRecord {
  reason: string;
  raw: unknown;
  line?: number;
  externalId?: string;
  details?: unknown;
}

export interface Page {
  records: SourceRecord[];
  rejected?: RejectedRecord[];
  /** Checkpoint after this page; saved in the same transaction as its records. */
  checkpoint: unknown;
}

export interface StreamDefinition {
  name: string;
  /** full: every read sees every live record, so records not seen become tombstones. */
  mode: 'full' | 'incremental';
  /** Identifies what a full read reads (e.g. a file's hash): a read is resumed only for the same key. */
  readKey?: string;
}

/** One canonical fact a record states; `fields` are validated against the kind's table on write. */
export interface Fact {
  kind: FactKind;
  fields: Record<string, unknown>;
}

/** A file handed to file-based connectors (uploaded through the API or given to `hub sync --file`). */
export interface SourceFile {
  id: string;
  path: string;
  filename: string;
  sha256: string;
  sizeBytes: number;
}

export interface ConnectorContext<Config, Credentials> {
  config: Config;
  credentials: Credentials | undefined;
  http: HttpClient;
  file?: SourceFile;
  batchSize: number;
  signal: AbortSignal;
  /** Tell the run something the owner should see (e.g. the column mapping that was guessed). */
  note: (code: string, message: string, details?: unknown) => void;
}

export interface Connector<Config = any, Credentials = any> {
  kind: string;
  title: string;
  description: string;
  configSchema: z.ZodType<Config>;
  credentialsSchema?: z.ZodType<Credentials>;
  /** File connectors read the connection's newest uploaded file unless a run names one. */
  readsFiles?: boolean;
  /** File connectors that fetch their file themselves (e.g. from a URL); null falls back to uploads. */
  fetchFile?(context: ConnectorContext<Config, Credentials>): Promise<{ filename: string; body: Readable } | null>;
  /** Verifies config and credentials against the source; throws HubError with an owner-readable message. */
  check(context: ConnectorContext<Config, Credentials>): Promise<{ message: string; details?: unknown }>;
  streams(context: ConnectorContext<Config, Credentials>): Promise<StreamDefinition[]>;
  read(stream: StreamDefinition, checkpoint: unknown, context: ConnectorContext<Config, Credentials>): AsyncIterable<Page>;
  /** Pure: one record to the facts it states. Throw RecordError for a bad record: it is quarantined. */
  map(stream: StreamDefinition, record: SourceRecord, context: ConnectorContext<Config, Credentials>): Fact[];
}

export type ConnectorRegistry = Record<string, Connector>;

/** Thrown by map() for a record that cannot become canonical facts; the record goes to quarantine. */
export class RecordError extends Error {
  constructor(message: string, readonly details?: unknown) {
    super(message);
    this.name = 'RecordError';
  }
}
