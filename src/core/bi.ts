import crypto from 'node:crypto';
import type { Sql } from '../db/index.js';
import { badRequest, HubError, notFound } from './errors.js';
import { randomBase62 } from './secrets.js';

// Database logins for BI tools: each reads the `bi` views (migration 0005) of one workspace.
// The views filter on hub.bi_roles by current_user; the role gets USAGE on schema bi and
// SELECT on its views (and on views later migrations add, by default privileges), nothing
// else (no hub or canonical access, no writes).

const ROLE_NAME = /^[a-z_][a-z0-9_]{2,62}$/;

export interface BiRole {
  role: string;
  workspace_id: string;
  created_at: string;
}

export async function createBiRole(sql: Sql, workspaceId: string, name?: string): Promise<{ role: string; password: string }> {
  const role = name ?? `bi_${workspaceId.slice(0, 8)}_${randomBase62(6).toLowerCase()}`;
  if (!ROLE_NAME.test(role)) throw badRequest('A role name is 3–63 characters: lower-case letters, digits and _, not starting with a digit.');
  const password = randomBase62(32);
  await sql.begin(async (transaction) => {
    const tx = transaction as unknown as Sql;
    const [workspace] = await tx`select id from hub.workspaces where id::text = ${workspaceId}`;
    if (!workspace) throw notFound(`Workspace ${workspaceId}`);
    const [existing] = await tx`select 1 from pg_roles where rolname = ${role}`;
    if (existing) throw new HubError('conflict', 409, `A database role named ${role} already exists.`);
    try {
      // Only the SCRAM verifier reaches the server, so the password is in no statement log.
      // The name is checked above and the verifier is base64: nothing to escape.
      await tx.unsafe(`create role "${role}" login noinherit nocreatedb nocreaterole password '${scramVerifier(password)}'`);
    } catch (error) {
      if ((error as { code?: string }).code === '42501') {
        throw new HubError('forbidden', 403, "The hub's database user may not create roles: give it CREATEROLE (or create the role yourself and register it in hub.bi_roles).");
      }
      throw error;
    }
    await tx.unsafe(`grant usage on schema bi to "${role}"`);
    await tx.unsafe(`grant select on all tables in schema bi to "${role}"`);
    await tx.unsafe(`alter default privileges in schema bi grant select on tables to "${role}"`);
    await tx`insert into hub.bi_roles (role_name, workspace_id) values (${role}, ${workspaceId})`;
  });
  return { role, password };
}

export async function listBiRoles(sql: Sql): Promise<BiRole[]> {
  const rows = await sql<{ role_name: string; workspace_id: string; created_at: Date }[]>`select role_name, workspace_id, created_at from hub.bi_roles order by created_at`;
  return rows.map((row) => ({ role: row.role_name, workspace_id: row.workspace_id, created_at: row.created_at.toISOString() }));
}

export async function dropBiRole(sql: Sql, role: string): Promise<void> {
  await sql.begin(async (transaction) => {
    const tx = transaction as unknown as Sql;
    const [row] = await tx`delete from hub.bi_roles where role_name = ${role} returning role_name`;
    if (!row) throw notFound(`BI role ${role}`);
    const [exists] = await tx`select 1 from pg_roles where rolname = ${role}`;
    if (!exists) return; // dropped by hand already: forgetting it is all that is left
    await tx.unsafe(`revoke all on all tables in schema bi from "${role}"`);
    await tx.unsafe(`alter default privileges in schema bi revoke select on tables from "${role}"`);
    await tx.unsafe(`revoke usage on schema bi from "${role}"`);
    await tx.unsafe(`drop role "${role}"`);
  });
}

/** What PostgreSQL stores for a SCRAM-SHA-256 password (RFC 5802/7677), as its own CREATE ROLE would. */
function scramVerifier(password: string, iterations = 4096): string {
  const salt = crypto.randomBytes(16);
  const salted = crypto.pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const hmac = (text: string) => crypto.createHmac('sha256', salted).update(text).digest();
  const storedKey = crypto.createHash('sha256').update(hmac('Client Key')).digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${hmac('Server Key').toString('base64')}`;
}

/** A connection URL for the role: the hub's own database URL with the role's credentials. */
export function biRoleUrl(databaseUrl: string, role: string, password: string): string {
  const url = new URL(databaseUrl);
  url.username = role;
  url.password = password;
  url.search = '';
  return url.toString();
}
