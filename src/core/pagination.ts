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

export function decodeCursor(cursor: string | undefined): unknown[] | undefined {
  if (!cursor) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key)) return key;
  } catch {
    // fall through to the error below
  }
  throw badRequest('The cursor is not one this API returned; start again without it.', { cursor });
}

/** Rows were fetched with limit + 1: the extra row only tells that there is a next page. */
export function toPage<Row, Out>(rows: Row[], limit: number, keyOf: (row: Row) => unknown[], present: (row: Row) => Out): PageResult<Out> {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { data: page.map(present), next_cursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}
