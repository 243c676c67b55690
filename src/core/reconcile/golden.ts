import crypto from 'node:crypto';
import type { Kind } from './model.js';

// Golden ids and survivorship.

/**
 * A golden id is derived from the workspace, the kind and the cluster's anchor record, so
 * re-running reconciliation from nothing gives the same ids, and the id a record would
 * have as an anchor (its "self id") resolves to whatever cluster holds it now (aliases).
 */
export function goldenId(workspaceId: string, kind: Kind, anchorRecordId: number): string {
  const hash = crypto.createHash('sha1').update(`${workspaceId}:${kind}:${anchorRecordId}`).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50; // version 5 (name-based, SHA-1)
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export type SurvivorshipRule = 'most_recent' | 'most_frequent' | 'trusted_source';

export interface MemberFact {
  source_record_id: number;
  connection_id: string;
  updated_at: Date;
  ingested_at: Date;
  [field: string]: unknown;
}

export interface FieldSource {
  source_record_id: number;
  connection_id: string;
  rule: SurvivorshipRule | 'union';
}

export interface SurvivorshipSettings {
  rules: Partial<Record<string, SurvivorshipRule>>;
  /** Per field, connection ids from most to least trusted (used by the trusted_source rule). */
  trusted: Partial<Record<string, string[]>>;
}

const newestFirst = (x: MemberFact, y: MemberFact) => y.updated_at.getTime() - x.updated_at.getTime() || y.source_record_id - x.source_record_id;

/** One golden field from the members that state it, with the record it came from and why. */
export function survive(field: string, members: MemberFact[], settings: SurvivorshipSettings, defaultRule: SurvivorshipRule = 'most_recent'): { value: unknown; source: FieldSource } | undefined {
  const stating = members.filter((member) => member[field] !== null && member[field] !== undefined && member[field] !== '').sort(newestFirst);
  if (stating.length === 0) return undefined;
  const rule = settings.rules[field] ?? defaultRule;
  let chosen = stating[0];
  if (rule === 'trusted_source') {
    const order = settings.trusted[field] ?? [];
    for (const connection of order) {
      const found = stating.find((member) => member.connection_id === connection);
      if (found) {
        chosen = found;
        break;
      }
    }
  } else if (rule === 'most_frequent') {
    const counts = new Map<string, number>();
    for (const member of stating) {
      const key = String(member[field]).trim().toLowerCase();
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    let best = -1;
    for (const member of stating) {
      const count = counts.get(String(member[field]).trim().toLowerCase())!;
      if (count > best) {
        best = count;
        chosen = member;
      }
    }
  }
  return { value: chosen[field], source: { source_record_id: chosen.source_record_id, connection_id: chosen.connection_id, rule } };
}

/** A list field (emails, phones, domains): every distinct value, the most stated first. */
export function unionOf(values: string[][]): string[] {
  const counts = new Map<string, number>();
  for (const list of values) for (const value of list) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).map(([value]) => value);
}
