import crypto from 'node:crypto';
import type { CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import { enqueueDerive } from '../ingest/changes.js';
import type { Sql } from '../../db/index.js';
import type { HubContext } from '../context.js';
import { badRequest, notFound } from '../errors.js';
import { decodeCursor, encodeCursor, type PageRequest, type PageResult } from '../pagination.js';
import { goldenId } from './golden.js';
import { loadSettings, reconcileIncremental } from './index.js';
import type { Kind } from './model.js';
import { nameKey, normalizeEmail, normalizePhone, normalizeText } from './normalize.js';

// What the API does with golden records: read, search, and the admin overrides (merge,
// split, never-merge), each stored as record-pair constraints and applied at once by an
// incremental reconcile in the same transaction.

const TABLES = {
  person: { table: 'canonical.customers', links: 'canonical.customer_links', idColumn: 'customer_id', facts: 'canonical.source_people', noun: 'Customer' },
  organization: { table: 'canonical.organizations', links: 'canonical.organization_links', idColumn: 'organization_id', facts: 'canonical.source_organizations', noun: 'Organization' },
} as const;

export interface Resolved {
  id: string;
  /** The id asked for, when it was an alias (an absorbed golden id) of this one. */
  resolvedFrom?: string;
}

/** A golden id, or an alias of one: the id a record had as an anchor resolves to the cluster holding that record now. */
export async function resolveGoldenId(sql: Sql, workspaceId: string, kind: Kind, id: string): Promise<Resolved> {
  const t = TABLES[kind];
  if (!z.uuid().safeParse(id).success) throw notFound(`${t.noun} ${id}`);
  const [direct] = await sql.unsafe(`select id from ${t.table} where id = $1 and workspace_id = $2`, [id, workspaceId]);
  if (direct) return { id };
  const [alias] = await sql.unsafe<{ golden_id: string }[]>(`select ${t.idColumn} as golden_id from ${t.links} where self_id = $1 and workspace_id = $2`, [id, workspaceId]);
  if (alias) return { id: alias.golden_id, resolvedFrom: id };
  throw notFound(`${t.noun} ${id}`);
}

function presentGolden(kind: Kind, row: Record<string, any>) {
  const common = {
    id: row.id,
    name: row.name,
    phones: row.phones,
    record_count: row.record_count,
    sources: row.sources,
    first_seen_at: row.first_seen_at.toISOString(),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
  if (kind === 'organization') return { ...common, domains: row.domains, tax_id: row.tax_id };
  return {
    ...common,
    emails: row.emails,
    organization_id: row.organization_id,
    organization_name: row.organization_name,
    owner: row.owner,
    birth_date: row.birth_date,
    address: row.address,
    city: row.city,
    postal_code: row.postal_code,
  };
}

export async function getGolden(context: HubContext, workspaceId: string, kind: Kind, id: string) {
  const { sql } = context;
  const t = TABLES[kind];
  const resolved = await resolveGoldenId(sql, workspaceId, kind, id);
  const [row] = await sql.unsafe(`select * from ${t.table} where id = $1`, [resolved.id]);
  const links = await sql.unsafe(
    `select l.source_record_id, l.connection_id, c.name as connection_name, c.kind as connection_kind, s.stream, s.external_id,
            l.rule, l.score, l.evidence, l.linked_by, l.linked_at, to_jsonb(f) - 'workspace_id' - 'connection_id' - 'source_record_id' - 'external_id' - 'ingested_at' - 'deleted_at' as fact
     from ${t.links} l
     join hub.source_records s on s.id = l.source_record_id
     join hub.connections c on c.id = l.connection_id
     join ${t.facts} f on f.source_record_id = l.source_record_id
     where l.${t.idColumn} = $1 order by l.source_record_id`,
    [resolved.id],
  );
  return {
    ...presentGolden(kind, row),
    ...(resolved.resolvedFrom ? { resolved_from: resolved.resolvedFrom } : {}),
    records: links.map((link) => ({
      source_record_id: String(link.source_record_id),
      connection_id: link.connection_id,
      connection_name: link.connection_name,
      connection_kind: link.connection_kind,
      stream: link.stream,
      external_id: link.external_id,
      link: { rule: link.rule, score: link.score === null ? null : Math.round(link.score * 100) / 100, evidence: link.evidence, linked_by: link.linked_by, linked_at: link.linked_at.toISOString() },
      fact: link.fact,
    })),
  };
}

const goldenCursor = z.tuple([z.string().min(1).max(400), z.uuid()]);

/** Golden records by name, then id; `q` finds a name in either script (and common romanizations), an email or a phone. */
export async function listGolden(context: HubContext, workspaceId: string, kind: Kind, filter: { q?: string }, page: PageRequest): Promise<PageResult<ReturnType<typeof presentGolden>>> {
  const { sql } = context;
  const t = TABLES[kind];
  const after = decodeCursor(page.cursor, goldenCursor);
  let condition = sql``;
  const q = filter.q?.trim();
  if (q) {
    const settings = await loadSettings(sql, workspaceId);
    const email = q.includes('@') ? normalizeEmail(q) : undefined;
    const phone = /\d{5,}/.test(q.replace(/\D/g, '')) && !/[\p{L}]/u.test(q) ? normalizePhone(q, settings.phone_region as CountryCode) : undefined;
    if (email) condition = sql`and ${email} = any(g.emails)`;
    else if (phone) condition = sql`and ${phone} = any(g.phones)`;
    else {
      const tokens = normalizeText(q).split(' ').filter(Boolean).slice(0, 5);
      if (tokens.length === 0) throw badRequest('q has nothing to search for.');
      // Every token must match one of the record's name tokens: the same text, the same transliteration key, or a prefix.
      const recordMatches = tokens.map((token) => {
        const key = nameKey(token);
        return kind === 'person'
          ? sql`(m.features->>'first' like ${`${token}%`} or m.features->>'last' like ${`${token}%`} or m.features->>'firstKey' = ${key} or m.features->>'lastKey' = ${key})`
          : sql`(m.features->>'name' like ${`%${token}%`})`;
      });
      const all = recordMatches.reduce((joined, fragment) => sql`${joined} and ${fragment}`);
      condition = sql`and g.id in (
        select l.${sql(t.idColumn)} from hub.match_records m join ${sql(t.links)} l on l.source_record_id = m.source_record_id
        where m.workspace_id = ${workspaceId} and m.kind = ${kind} and ${all})`;
    }
  }
  const rows = await sql<Record<string, any>[]>`
    select g.*, coalesce(g.name, '') as sort_name from ${sql(t.table)} g
    where g.workspace_id = ${workspaceId} ${condition}
      ${after ? sql`and (coalesce(g.name, ''), g.id) > (${after[0]}, ${after[1]}::uuid)` : sql``}
    order by coalesce(g.name, ''), g.id
    limit ${page.limit + 1}`;
  const data = rows.slice(0, page.limit);
  const last = data[data.length - 1];
  return { data: data.map((row) => presentGolden(kind, row)), next_cursor: rows.length > page.limit && last ? encodeCursor([last.sort_name, last.id]) : null };
}

async function membersOf(tx: Sql, kind: Kind, goldenIdValue: string): Promise<number[]> {
  const t = TABLES[kind];
  const rows = await tx.unsafe<{ source_record_id: string }[]>(`select source_record_id from ${t.links} where ${t.idColumn} = $1 order by 1`, [goldenIdValue]);
  return rows.map((row) => Number(row.source_record_id));
}

async function writeOverrides(tx: Sql, workspaceId: string, kind: Kind, action: string, pairs: [number, number, 'must' | 'cannot'][], createdBy: string | undefined): Promise<void> {
  if (pairs.length === 0) return;
  const groupId = crypto.randomUUID();
  await tx`
    insert into hub.match_overrides (workspace_id, kind, action, group_id, record_a, record_b, link, created_by)
    select ${workspaceId}, ${kind}, ${action}, ${groupId}, a, b, link, ${createdBy ?? null}
    from unnest(${pairs.map((pair) => Math.min(pair[0], pair[1]))}::bigint[], ${pairs.map((pair) => Math.max(pair[0], pair[1]))}::bigint[], ${pairs.map((pair) => pair[2])}::text[]) as t(a, b, link)`;
}

/** Merges golden records into one: the survivor is the one with the oldest anchor record; the others' ids become its aliases. */
export async function mergeGolden(context: HubContext, workspaceId: string, kind: Kind, ids: string[], createdBy?: string) {
  const result = await context.sql.begin(async (transaction) => {
    const tx = transaction as unknown as Sql;
    const resolved = [...new Set((await Promise.all(ids.map((id) => resolveGoldenId(tx, workspaceId, kind, id)))).map((entry) => entry.id))];
    if (resolved.length < 2) throw badRequest('These ids are already one record: nothing to merge.', { ids });
    const groups = await Promise.all(resolved.map((id) => membersOf(tx, kind, id)));
    const pairs: [number, number, 'must'][] = [];
    for (let i = 0; i < groups.length; i++) for (let j = i + 1; j < groups.length; j++) for (const a of groups[i]) for (const b of groups[j]) pairs.push([a, b, 'must']);
    await writeOverrides(tx, workspaceId, kind, 'merge', pairs, createdBy);
    await reconcileIncremental(tx, workspaceId, kind, groups.flat());
    await enqueueDerive(tx, workspaceId); // rollups: who the customers are changed
    const anchor = Math.min(...groups.flat());
    return goldenId(workspaceId, kind, anchor);
  });
  return getGolden(context, workspaceId, kind, result as string);
}

/** Splits the given source records off a golden record into one of their own (id predictable: derived from their oldest record). */
export async function splitGolden(context: HubContext, workspaceId: string, kind: Kind, id: string, sourceRecordIds: number[], createdBy?: string) {
  const parts = await context.sql.begin(async (transaction) => {
    const tx = transaction as unknown as Sql;
    const resolved = await resolveGoldenId(tx, workspaceId, kind, id);
    const members = await membersOf(tx, kind, resolved.id);
    const part = [...new Set(sourceRecordIds)];
    const strangers = part.filter((record) => !members.includes(record));
    if (strangers.length > 0) throw badRequest(`These source records are not linked to ${resolved.id}.`, { source_record_ids: strangers.map(String), linked: members.map(String) });
    const rest = members.filter((record) => !part.includes(record));
    if (part.length === 0 || rest.length === 0) throw badRequest('A split needs some of the records, not none or all of them.', { linked: members.map(String) });
    const pairs: [number, number, 'must' | 'cannot'][] = [];
    for (const a of part) for (const b of rest) pairs.push([a, b, 'cannot']);
    // Each side stays together as the admin left it.
    for (const side of [part, rest]) {
      const anchor = Math.min(...side);
      for (const record of side) if (record !== anchor) pairs.push([anchor, record, 'must']);
    }
    await writeOverrides(tx, workspaceId, kind, 'split', pairs, createdBy);
    await reconcileIncremental(tx, workspaceId, kind, members);
    await enqueueDerive(tx, workspaceId);
    return [goldenId(workspaceId, kind, Math.min(...rest)), goldenId(workspaceId, kind, Math.min(...part))];
  });
  return Promise.all((parts as string[]).map((part) => getGolden(context, workspaceId, kind, part)));
}

/** Records that two golden records are different clients: they never merge automatically again, whatever a re-run finds. */
export async function neverMergeGolden(context: HubContext, workspaceId: string, kind: Kind, ids: [string, string], createdBy?: string) {
  await context.sql.begin(async (transaction) => {
    const tx = transaction as unknown as Sql;
    const [left, right] = await Promise.all(ids.map((id) => resolveGoldenId(tx, workspaceId, kind, id)));
    if (left.id === right.id) throw badRequest('Both ids are the same record; split it first.', { ids });
    const [a, b] = await Promise.all([membersOf(tx, kind, left.id), membersOf(tx, kind, right.id)]);
    const pairs: [number, number, 'cannot'][] = [];
    for (const x of a) for (const y of b) pairs.push([x, y, 'cannot']);
    await writeOverrides(tx, workspaceId, kind, 'never_merge', pairs, createdBy);
    await reconcileIncremental(tx, workspaceId, kind, [...a, ...b]);
    await enqueueDerive(tx, workspaceId);
  });
}

const candidateCursor = z.tuple([z.number(), z.number().int(), z.number().int()]);

/** The review queue, strongest first: both sides' golden records and the field-by-field evidence. */
export async function listMatchCandidates(context: HubContext, workspaceId: string, kind: Kind, page: PageRequest) {
  const { sql } = context;
  const t = TABLES[kind];
  const after = decodeCursor(page.cursor, candidateCursor);
  const rows = await sql.unsafe<Record<string, any>[]>(
    `select m.record_a, m.record_b, m.score, m.reason, m.evidence, m.created_at,
            la.${t.idColumn} as golden_a, lb.${t.idColumn} as golden_b, ga.name as name_a, gb.name as name_b
     from hub.match_candidates m
     join ${t.links} la on la.source_record_id = m.record_a
     join ${t.links} lb on lb.source_record_id = m.record_b
     join ${t.table} ga on ga.id = la.${t.idColumn}
     join ${t.table} gb on gb.id = lb.${t.idColumn}
     where m.workspace_id = $1 and m.kind = $2 ${after ? 'and (m.score, m.record_a, m.record_b) < ($3, $4, $5)' : ''}
     order by m.score desc, m.record_a desc, m.record_b desc
     limit ${page.limit + 1}`,
    after ? [workspaceId, kind, after[0], after[1], after[2]] : [workspaceId, kind],
  );
  const data = rows.slice(0, page.limit);
  const last = data[data.length - 1];
  return {
    data: data.map((row) => ({
      score: Math.round(row.score * 100) / 100,
      reason: row.reason,
      a: { id: row.golden_a, name: row.name_a, source_record_id: String(row.record_a) },
      b: { id: row.golden_b, name: row.name_b, source_record_id: String(row.record_b) },
      evidence: row.evidence,
      created_at: row.created_at.toISOString(),
    })),
    next_cursor: rows.length > page.limit && last ? encodeCursor([last.score, Number(last.record_a), Number(last.record_b)]) : null,
  };
}
