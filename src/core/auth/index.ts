import type { Sql } from '../../db/index.js';
import { hashApiKey, randomBase62 } from '../secrets.js';

export type Role = 'admin' | 'read';

export interface Principal {
  workspaceId: string;
  role: Role;
  keyId: string;
}

export async function createWorkspace(sql: Sql, name: string): Promise<{ id: string; name: string }> {
  const [workspace] = await sql<{ id: string; name: string }[]>`insert into hub.workspaces (name) values (${name}) returning id, name`;
  return workspace;
}

/** Creates a key; the plain key is returned here once and only its hash is stored. */
export async function createApiKey(sql: Sql, input: { workspaceId: string; role: Role; name?: string }): Promise<{ id: string; key: string; prefix: string }> {
  const key = `hub_${randomBase62(32)}`;
  const prefix = key.slice(0, 8);
  const [row] = await sql<{ id: string }[]>`
    insert into hub.api_keys (workspace_id, name, role, prefix, hash)
    values (${input.workspaceId}, ${input.name ?? `${input.role} key`}, ${input.role}, ${prefix}, ${hashApiKey(key)})
    returning id`;
  return { id: row.id, key, prefix };
}

export async function authenticate(sql: Sql, key: string): Promise<Principal | null> {
  if (!/^hub_[0-9A-Za-z]{32}$/.test(key)) return null;
  const [row] = await sql<{ id: string; workspace_id: string; role: Role }[]>`
    update hub.api_keys set last_used_at = now()
    where hash = ${hashApiKey(key)} and revoked_at is null
    returning id, workspace_id, role`;
  return row ? { workspaceId: row.workspace_id, role: row.role, keyId: row.id } : null;
}

/** First start: with no key anywhere, make a default workspace and an admin key to print once. */
export async function bootstrapIfEmpty(sql: Sql): Promise<{ workspaceId: string; key: string } | null> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(7318043)`;
    const [{ count }] = await tx<{ count: number }[]>`select count(*)::int as count from hub.api_keys`;
    if (count > 0) return null;
    const workspace = await createWorkspace(tx as unknown as Sql, 'Default workspace');
    const { key } = await createApiKey(tx as unknown as Sql, { workspaceId: workspace.id, role: 'admin', name: 'bootstrap admin key' });
    return { workspaceId: workspace.id, key };
  });
}
