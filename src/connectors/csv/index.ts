import fs from 'node:fs';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { parse } from 'csv-parse';
import { z } from 'zod';
import { HubError, type Connector, type ConnectorContext, type Page, type RejectedRecord, type SourceRecord } from '../../core/ingest/index.js';
import { mapTabularRow, resolveMapping, tabularMappingSchema, type TabularMapping } from '../shared/tabular.js';
import { decodeSample, detectDelimiter, detectEncoding, looksLikeHeader, readSample, type Encoding } from './sniff.js';

// CSV files: uploaded through the API, given to `hub sync --file`, or fetched from a URL.

export const csvConfigSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }).optional().describe('Fetch the file from this URL on every sync (e.g. a published spreadsheet) instead of using uploads.'),
    encoding: z.enum(['auto', 'utf-8', 'windows-1251', 'utf-16le']).default('auto'),
    delimiter: z.enum(['auto', ',', ';', '\t', '|']).default('auto'),
    has_header: z.union([z.literal('auto'), z.boolean()]).default('auto'),
    ...tabularMappingSchema,
  })
  .strict();
export type CsvConfig = z.infer<typeof csvConfigSchema>;

export const csvCredentialsSchema = z
  .object({ bearer_token: z.string().min(1).describe('Sent as "Authorization: Bearer …" when fetching config.url.') })
  .strict();
export type CsvCredentials = z.infer<typeof csvCredentialsSchema>;

type Context = ConnectorContext<CsvConfig, CsvCredentials>;

interface CsvCheckpoint {
  /** Data rows consumed so far (header excluded), stored or quarantined. */
  rows: number;
}

interface FileLayout {
  encoding: Encoding;
  delimiter: string;
  hasHeader: boolean;
}

function inspect(filePath: string, config: CsvConfig): FileLayout & { firstRow: string[] } {
  const sample = readSample(filePath);
  const encoding = config.encoding === 'auto' ? detectEncoding(sample) : config.encoding;
  const text = decodeSample(sample, encoding);
  const delimiter = config.delimiter === 'auto' ? detectDelimiter(text) : config.delimiter;
  const firstLine = text.split(/\r?\n/).find((line) => line.trim() !== '') ?? '';
  const firstRow = parseLine(firstLine, delimiter);
  return { encoding, delimiter, firstRow, hasHeader: config.has_header === 'auto' ? looksLikeHeader(firstRow) : config.has_header };
}

/** Splits the first line only (to find the headers); the rows themselves go through csv-parse. */
function parseLine(line: string, delimiter: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') (cell += '"'), i++;
      else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === delimiter) cells.push(cell), (cell = '');
    else cell += char;
  }
  cells.push(cell);
  return cells.map((value) => value.trim());
}

function headersOf(firstRow: string[], hasHeader: boolean): string[] {
  const seen = new Map<string, number>();
  return firstRow.map((cell, index) => {
    const base = hasHeader && cell.trim() ? cell.trim() : `column_${index + 1}`;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return count > 1 ? `${base}_${count}` : base;
  });
}

function fileOf(context: Context) {
  if (!context.file) throw new HubError('no_file', 400, 'There is no file to read yet: upload one first.');
  return context.file;
}

async function* readRows(context: Context, checkpoint: CsvCheckpoint | null): AsyncGenerator<Page> {
  const file = fileOf(context);
  const layout = inspect(file.path, context.config);
  const headers = headersOf(layout.firstRow, layout.hasHeader);
  const mapping = resolveMapping(headers, context.config);
  describeLayout(context, layout, headers, mapping);

  const decoded: NodeJS.ReadableStream = layout.encoding === 'utf-8'
    ? fs.createReadStream(file.path)
    : fs.createReadStream(file.path).pipe(iconv.decodeStream(layout.encoding));
  const parser = decoded.pipe(parse({
    delimiter: layout.delimiter,
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    trim: false,
    info: true,
  }));
  const rejected: RejectedRecord[] = [];
  parser.on('skip', (error: Error & { lines?: number; record?: unknown }) => {
    rejected.push({ reason: `The line is not valid CSV: ${error.message}`, raw: { text: String(error.record ?? '') }, line: error.lines });
  });

  const skip = checkpoint?.rows ?? 0;
  let resumeLine = 0;
  let rowNumber = 0;
  let records: SourceRecord[] = [];
  let first = true;
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    if (first) {
      first = false;
      if (layout.hasHeader) continue;
    }
    rowNumber++;
    const line = info.lines;
    if (rowNumber <= skip) {
      resumeLine = line; // rows before the checkpoint were stored (or quarantined) by an earlier run
      continue;
    }
    if (record.length !== headers.length) {
      rejected.push({ reason: `Line ${line} has ${record.length} fields; the header has ${headers.length}.`, raw: { fields: record }, line });
    } else {
      const data: Record<string, string> = {};
      headers.forEach((header, index) => (data[header] = record[index]));
      const key = data[mapping.keyColumn]?.trim();
      if (!key) rejected.push({ reason: `Line ${line}: the key column "${mapping.keyColumn}" is empty.`, raw: data, line });
      else records.push({ externalId: key, data, line });
    }
    if (records.length + rejected.length >= context.batchSize) {
      yield { records, rejected: takeAfter(rejected, resumeLine), checkpoint: { rows: rowNumber } satisfies CsvCheckpoint };
      records = [];
    }
  }
  if (records.length > 0 || rejected.length > 0 || rowNumber === skip) {
    yield { records, rejected: takeAfter(rejected, resumeLine), checkpoint: { rows: rowNumber } satisfies CsvCheckpoint };
  }
}

/** Empties the list, keeping the rejections past the resume point (earlier ones were quarantined before). */
function takeAfter(rejected: RejectedRecord[], resumeLine: number): RejectedRecord[] {
  return rejected.splice(0).filter((entry) => (entry.line ?? Infinity) > resumeLine);
}

function describeLayout(context: Context, layout: FileLayout, headers: string[], mapping: TabularMapping): void {
  context.note('file_layout', `Read as ${layout.encoding}, delimiter "${layout.delimiter === '\t' ? '\\t' : layout.delimiter}", ${layout.hasHeader ? 'first row is the header' : 'no header row'}.`, { encoding: layout.encoding, delimiter: layout.delimiter, has_header: layout.hasHeader, headers });
  if (mapping.suggested) {
    const described = Object.entries(mapping.columns).map(([header, field]) => `${header} → ${field}`).join(', ');
    context.note('mapping_suggested', `No column mapping configured; used the one suggested from the headers: ${described || 'nothing matched'}; key column "${mapping.keyColumn}". Set config.columns to change it.`, { columns: mapping.columns, key_column: mapping.keyColumn });
  }
}

const mappingCache = new WeakMap<object, TabularMapping>();

export const csvConnector: Connector<CsvConfig, CsvCredentials> = {
  kind: 'csv',
  title: 'CSV file',
  description: 'A spreadsheet exported as CSV (UTF-8, UTF-8 with BOM or Windows-1251; comma, semicolon, tab or pipe), uploaded, given by path or fetched from a URL.',
  configSchema: csvConfigSchema,
  credentialsSchema: csvCredentialsSchema,
  readsFiles: true,

  async fetchFile(context) {
    if (!context.config.url) return null;
    const headers: Record<string, string> = context.credentials ? { authorization: `Bearer ${context.credentials.bearer_token}` } : {};
    const response = await context.http.fetch(context.config.url, { headers });
    if (!response.body) throw new HubError('source_failed', 502, `${context.config.url} returned no content.`);
    const filename = new URL(context.config.url).pathname.split('/').pop() || 'download.csv';
    return { filename, body: Readable.fromWeb(response.body as never) };
  },

  async check(context) {
    if (context.config.url) {
      const fetched = await csvConnector.fetchFile!(context);
      fetched?.body.destroy();
      return { message: `${context.config.url} answered and can be read.` };
    }
    if (!context.file) return { message: 'The configuration is valid; upload a file to sync.' };
    const layout = inspect(context.file.path, context.config);
    const headers = headersOf(layout.firstRow, layout.hasHeader);
    const mapping = resolveMapping(headers, context.config);
    return { message: `${context.file.filename}: ${headers.length} columns, key column "${mapping.keyColumn}".`, details: { encoding: layout.encoding, delimiter: layout.delimiter, has_header: layout.hasHeader, headers, columns: mapping.columns, key_column: mapping.keyColumn } };
  },

  async streams(context) {
    const file = fileOf(context);
    return [{ name: 'rows', mode: 'full', readKey: file.sha256 }];
  },

  read(_stream, checkpoint, context) {
    return readRows(context, checkpoint as CsvCheckpoint | null);
  },

  map(_stream, record, context) {
    let mapping = mappingCache.get(context);
    if (!mapping) {
      mapping = resolveMapping(Object.keys(record.data), context.config);
      mappingCache.set(context, mapping);
    }
    return mapTabularRow(record.data as Record<string, string>, mapping);
  },
};
