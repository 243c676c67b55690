import { z } from 'zod';
import { badRequest } from './errors.js';

// Cursor pagination for every list: an opaque cursor holds the sort key of the last row returned.
export interface PageRequest {
  limit: number;
  cursor?: string;
}

export interface PageResult<T> {
  data: T[];
  next_cursor: string | null;
}

export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** A row's sort key for lists ordered by (timestamp, id): the timestamp as PostgreSQL's full-precision text. */
export const timeIdCursor = z.tuple([z.iso.datetime({ offset: true }), z.uuid()]);
export const idCursor = z.tuple([z.number().int().nonnegative()]);

/**
 * Cursors hold the sort key of the last row. Timestamps in them must keep PostgreSQL's
 * microseconds (select `to_json(ts)#>>'{}'`, compare with `${ts}::text::timestamptz`: postgres.js
 * would coerce a bare timestamptz parameter through a JS Date). A Date keeps milliseconds, and a page
 * would then repeat or skip rows that share the millisecond.
 */
export function decodeCursor<T extends z.ZodType>(cursor: string | undefined, shape: T): z.infer<T> | undefined {
  if (!cursor) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const parsed = shape.safeParse(key);
  if (parsed.success) return parsed.data;
  throw badRequest('The cursor is not one this API returned; start again without it.', { cursor });
}

/** Rows were fetched with limit + 1: the extra row only tells that there is a next page. */
export function toPage<Row, Out>(rows: Row[], limit: number, keyOf: (row: Row) => unknown[], present: (row: Row) => Out): PageResult<Out> {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { data: page.map(present), next_cursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}
