import crypto from 'node:crypto';

// A record's content hash: SHA-256 (base64url) of the salt, a newline and the record as
// JSON with its keys sorted at every depth. Computed for every record of every sync, so
// flat records (every row of a spreadsheet) take a fast path that gives the same text.

export function contentHash(salt: string, data: unknown): string {
  return sha256(`${salt}\n${stableJson(data)}`);
}

/**
 * The hash of a record (prefix: the salt and a newline) and its data as JSON to store: for a
 * flat record the hashed text itself (jsonb does not keep key order), else JSON.stringify's.
 */
export function hashRecord(prefix: string, data: Record<string, unknown>): { hash: string; json: string } {
  const flat = flatJson(data);
  if (flat !== undefined) return { hash: sha256(prefix + flat), json: flat };
  return { hash: sha256(prefix + stableStringify(data)), json: JSON.stringify(data) };
}

/** SHA-256 in base64url, in one call where the runtime has crypto.hash (Node ≥ 20.12). */
export const sha256: (text: string) => string = typeof (crypto as { hash?: unknown }).hash === 'function'
  ? (text) => (crypto as unknown as { hash: (algorithm: string, data: string, encoding: string) => string }).hash('sha256', text, 'base64url')
  : (text) => crypto.createHash('sha256').update(text).digest('base64url');

/** JSON with keys sorted at every depth; keys whose value is undefined are left out. */
export function stableJson(value: unknown): string {
  return flatJson(value) ?? stableStringify(value);
}

function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, v]) => `${JSON.stringify(key)}:${stableStringify(v)}`).join(',')}}`;
}

// Records of one source share their keys: the sorted order and the quoted keys are worked
// out once per shape, not once per record.
let shapeKeys: string[] = [];
let sortedKeys: string[] = [];
let keyPrefixes: string[] = [];

/** The same text as stableStringify for a plain object whose values are all strings, numbers, booleans or null; undefined otherwise. */
function flatJson(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return undefined; // arrays, dates, classes: the general path
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (!sameKeys(keys, shapeKeys)) {
    shapeKeys = keys;
    sortedKeys = [...keys].sort();
    keyPrefixes = sortedKeys.map((key, index) => `${index === 0 ? '{' : ','}${JSON.stringify(key)}:`);
  }
  if (sortedKeys.length === 0) return '{}';
  let json = '';
  for (let index = 0; index < sortedKeys.length; index++) {
    const value = record[sortedKeys[index]];
    const type = typeof value;
    if (type === 'string') json += keyPrefixes[index] + JSON.stringify(value);
    else if (value === null || type === 'number' || type === 'boolean') json += keyPrefixes[index] + String(JSON.stringify(value));
    else return undefined; // nested, undefined, bigint…: the general path decides
  }
  return `${json}}`;
}

function sameKeys(keys: string[], known: string[]): boolean {
  if (keys.length !== known.length) return false;
  for (let index = 0; index < keys.length; index++) if (keys[index] !== known[index]) return false;
  return true;
}
