import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Sql } from './index.js';

// Bulk writes through COPY (about twice the rate of batched INSERT here): rows are encoded
// in COPY's text format and streamed with backpressure, never built as one big string.

const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
// Most values hold none of the four characters: one test, and the text goes out as it is.
const escapeText = (text: string) => (SPECIAL.test(text) ? text.replace(SPECIALS, (character) => ESCAPED[character]) : text);
const arrayItem = (item: unknown) => (item === null || item === undefined ? 'NULL' : `"${String(item).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);

/** Marks a value for a json/jsonb column (arrays included), which COPY must get as JSON text, not as an array literal. */
export class Json {
  constructor(readonly value: unknown) {}
}
export const asJson = (value: unknown) => (value === null || value === undefined ? null : new Json(value));

function encode(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (value instanceof Json) return escapeText(JSON.stringify(value.value));
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return escapeText(`{${value.map(arrayItem).join(',')}}`);
  if (typeof value === 'object') return escapeText(JSON.stringify(value));
  return escapeText(String(value));
}

export async function copyRows(sql: Sql, table: string, columns: string[], rows: Iterable<unknown[]>): Promise<number> {
  const query = sql.unsafe(`copy ${table} (${columns.map((column) => `"${column}"`).join(', ')}) from stdin`);
  const writable = await query.writable();
  // postgres.js 3.4.9 loses a COPY's server error once the stream has ended: the writable never
  // finishes and the error goes to the query's (already resolved) promise, so a transaction
  // would hang "idle in transaction (aborted)" and, outside one, the failure would pass as
  // success (porsager/postgres#1173). The error does reach `query.reject`, so we take it there.
  const failed = new Promise<never>((_, reject) => {
    (query as unknown as { reject: (error: unknown) => void }).reject = reject;
  });
  failed.catch(() => undefined);
  const done = finished(writable);
  done.catch(() => undefined);
  let count = 0;
  let chunk = '';
  for (const row of rows) {
    chunk += `${row.map(encode).join('\t')}\n`;
    count++;
    if (chunk.length > 256 * 1024) {
      if (!writable.write(chunk)) await Promise.race([once(writable, 'drain'), done, failed]);
      chunk = '';
    }
  }
  if (chunk) writable.write(chunk);
  writable.end();
  await Promise.race([done, failed]);
  return count;
}
