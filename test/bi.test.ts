import { spawn } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import postgres from 'postgres';
import { biRoleUrl, createBiRole } from '../src/core/bi.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub } from './helpers/hub.js';

// The BI contract: `hub bi-role create` (the real CLI, a child process) makes a login that
// reads the bi views of its own workspace, and nothing else.

let hub: TestHub;
const clients: postgres.Sql[] = [];
beforeAll(async () => {
  hub = await createTestHub({ worker: false });
});
afterAll(async () => {
  for (const client of clients) await client.end();
  await hub?.close();
});

function runHub(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/hub.js', ...args], {
      cwd: path.resolve(import.meta.dirname, '..'),
      env: { ...process.env, ...hub.env, HUB_LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let nextId = 5_000_000;
async function seedWorkspace(label: string) {
  const { workspaceId } = await hub.workspace();
  const [connection] = await hub.sql<{ id: string }[]>`
    insert into hub.connections (workspace_id, kind, name, config, credentials_encrypted) values (${workspaceId}, 'csv', ${`${label} sheet`}, ${hub.sql.json({ secret_looking: 'x' })}, 'sealed') returning id`;
  const person = nextId++;
  const customerId = crypto.randomUUID();
  await hub.sql`insert into canonical.source_people (source_record_id, workspace_id, connection_id, external_id, name) values (${person}, ${workspaceId}, ${connection.id}, 'c1', ${`${label} Client`})`;
  await hub.sql`insert into canonical.customers (id, workspace_id, anchor_record_id, name, record_count, first_seen_at, owner) values (${customerId}, ${workspaceId}, ${person}, ${`${label} Client`}, 1, now(), 'olga')`;
  await hub.sql`insert into canonical.customer_links (source_record_id, workspace_id, connection_id, self_id, rule, linked_by, customer_id) values (${person}, ${workspaceId}, ${connection.id}, ${customerId}, 'anchor', 'auto', ${customerId})`;
  await hub.sql`insert into canonical.payments (source_record_id, workspace_id, connection_id, external_id, customer_ref, amount, refunded_amount, currency, paid_at)
    values (${nextId++}, ${workspaceId}, ${connection.id}, 'pay1', 'c1', 10000, 2500, 'EUR', '2026-05-05T10:00:00Z')`;
  await hub.sql`insert into canonical.metric_rollups (workspace_id, metric, grain, period_start, dimension, dimension_value, currency, value, count, inputs)
    values (${workspaceId}, 'revenue', 'month', '2026-05-01', 'workspace', '', 'EUR', 7500, 1, ${hub.sql.json({ sum: 7500 })})`;
  return { workspaceId, connectionId: connection.id, customerId };
}

describe('hub bi-role create', () => {
  it('makes a login that reads its own workspace through the bi views and nothing else', async () => {
    const mine = await seedWorkspace('Mine');
    const theirs = await seedWorkspace('Theirs');

    const created = await runHub(['bi-role', 'create', '--workspace', mine.workspaceId, '--name', 'bi_test_reader']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const url = /postgres(?:ql)?:\/\/\S+/.exec(created.stdout)?.[0];
    expect(url).toBeDefined();
    expect(url).toContain('bi_test_reader');
    const bi = postgres(url!, { max: 1, onnotice: () => undefined });
    clients.push(bi);

    // Its own rows, with the golden customer resolved and the net amount.
    const payments = await bi`select customer_id, amount, net_amount, currency from bi.payments`;
    expect(payments.map((row) => ({ ...row }))).toEqual([{ customer_id: mine.customerId, amount: '10000', net_amount: '7500', currency: 'EUR' }]);
    expect((await bi`select name, owner from bi.customers`).map((row) => row.name)).toEqual(['Mine Client']);
    expect((await bi`select metric, value, period_end::text from bi.metric_rollups`).map((row) => ({ ...row }))).toEqual([{ metric: 'revenue', value: 7500, period_end: '2026-05-31' }]);
    const connections = await bi`select * from bi.connections`;
    expect(connections.map((row) => row.name)).toEqual(['Mine sheet']);
    expect(Object.keys(connections[0])).not.toContain('config');
    // Nothing of the other workspace, even asked by id.
    expect(await bi`select * from bi.customers where id = ${theirs.customerId}`).toHaveLength(0);
    expect(await bi`select * from bi.payments where workspace_id = ${theirs.workspaceId}`).toHaveLength(0);

    // Not the tables behind the views, and no writes anywhere.
    for (const statement of [
      'select * from hub.workspaces',
      'select * from hub.connections',
      'select * from hub.bi_roles',
      'select * from canonical.payments',
      'select * from canonical.customers',
      "insert into bi.connections (id, workspace_id, kind, name) values (gen_random_uuid(), gen_random_uuid(), 'csv', 'x')",
      'update bi.customers set name = $$x$$',
      'delete from bi.metric_rollups',
      'create table public.mine (x int)',
      'create schema mine',
    ]) {
      await expect(bi.unsafe(statement), statement).rejects.toThrow(/permission denied/);
    }

    // A view a later migration adds is readable without a new grant (default privileges).
    await hub.sql.unsafe('create view bi.zz_added_later as select 1 as x');
    try {
      expect(await bi`select x from bi.zz_added_later`).toEqual([{ x: 1 }]);
    } finally {
      await hub.sql.unsafe('drop view bi.zz_added_later'); // the comment checks below must not see it
    }

    // The owner (the hub's own user) sees every workspace through the same views.
    const owned = await hub.sql`select workspace_id from bi.payments where workspace_id in (${mine.workspaceId}, ${theirs.workspaceId})`;
    expect(owned).toHaveLength(2);

    const listed = await runHub(['bi-role', 'list']);
    expect(listed.stdout).toContain(`bi_test_reader\t${mine.workspaceId}`);
    const dropped = await runHub(['bi-role', 'drop', 'bi_test_reader']);
    expect(dropped.code).toBe(0);
    await bi.end();
    const again = postgres(url!, { max: 1, onnotice: () => undefined, connect_timeout: 5 });
    clients.push(again);
    await expect(again`select 1`).rejects.toThrow(/bi_test_reader|authentication|does not exist/);
  });

  it('refuses a bad name or an unknown workspace in one line', async () => {
    const bad = await runHub(['bi-role', 'create', '--workspace', crypto.randomUUID()]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/not found/);
    const { workspaceId } = await hub.workspace();
    const badName = await runHub(['bi-role', 'create', '--workspace', workspaceId, '--name', 'Robert"); drop table x; --']);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/role name/);
    const usage = await runHub(['bi-role', 'make']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/Usage: hub bi-role/);
  });
});

describe('the bi schema', () => {
  it('has a comment on every view and every column', async () => {
    const missing = await hub.sql<{ what: string }[]>`
      select c.relname as what from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'bi' and c.relkind = 'v' and obj_description(c.oid, 'pg_class') is null
      union all
      select c.relname || '.' || a.attname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where n.nspname = 'bi' and c.relkind = 'v' and col_description(c.oid, a.attnum) is null`;
    expect(missing.map((row) => row.what)).toEqual([]);
    const [{ views }] = await hub.sql<{ views: number }[]>`select count(*)::int as views from pg_views where schemaname = 'bi'`;
    expect(views).toBeGreaterThanOrEqual(12);
  });
});

describe('docs/bi.md', () => {
  const doc = fs.readFileSync(new URL('../docs/bi.md', import.meta.url), 'utf8');

  it('runs every example query as a BI role', async () => {
    const { workspaceId, connectionId } = await seedWorkspace('Docs');
    // One row for each query: a returning payment, an overdue invoice, an owner's check, a week's first responses.
    await hub.sql`insert into canonical.payments (source_record_id, workspace_id, connection_id, external_id, customer_ref, amount, currency, paid_at)
      values (${nextId++}, ${workspaceId}, ${connectionId}, 'pay2', 'c1', 4000, 'EUR', '2026-06-10T10:00:00Z')`;
    await hub.sql`insert into canonical.invoices (source_record_id, workspace_id, connection_id, external_id, number, customer_ref, status, amount_due, amount_paid, currency, issued_at, due_at)
      values (${nextId++}, ${workspaceId}, ${connectionId}, 'inv7', 'INV-7', 'c1', 'open', 20000, 5000, 'EUR', '2026-01-01T10:00:00Z', '2026-01-10T10:00:00Z')`;
    await hub.sql`insert into canonical.metric_rollups (workspace_id, metric, grain, period_start, dimension, dimension_value, currency, value, count, inputs) values
      (${workspaceId}, 'average_check', 'month', '2026-05-01', 'owner', 'olga', 'EUR', 7500, 1, ${hub.sql.json({ numerator: 7500, denominator: 1 })}),
      (${workspaceId}, 'first_response_time', 'week', '2026-05-04', 'workspace', '', '', 3600, 3, ${hub.sql.json({ p50: 3600, p90: 7200, mean: 4000, sum: 12000, count: 3 })})`;
    const { role, password } = await createBiRole(hub.sql, workspaceId);
    const bi = postgres(biRoleUrl(hub.databaseUrl, role, password), { max: 1, onnotice: () => undefined });
    clients.push(bi);
    const queries = [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].map((match) => match[1]);
    expect(queries).toHaveLength(5);
    const [revenue, averageCheck, cohorts, firstResponse, overdue] = await Promise.all(queries.map((query) => bi.unsafe(query)));
    const day = (value: Date) => value.toISOString().slice(0, 10);
    expect(revenue.map((row) => ({ ...row, month: day(row.month) }))).toEqual([{ month: '2026-05-01', currency: 'EUR', revenue: 75, payments: '1' }]);
    expect(averageCheck.map((row) => ({ ...row, month: day(row.month) }))).toEqual([{ owner: 'olga', month: '2026-05-01', currency: 'EUR', average_check: 75, paid_invoices: 1 }]);
    expect(cohorts.map((row) => [day(row.cohort), day(row.month), row.customers])).toEqual([['2026-05-01', '2026-05-01', '1'], ['2026-05-01', '2026-06-01', '1']]);
    expect(firstResponse.map((row) => ({ ...row, week: day(row.week) }))).toEqual([{ week: '2026-05-04', p90_hours: 2, median_hours: 1, threads: '3' }]);
    expect(overdue).toHaveLength(1);
    expect({ ...overdue[0], outstanding: Number(overdue[0].outstanding), due: day(overdue[0].due) }).toMatchObject({ number: 'INV-7', customer: 'Docs Client', outstanding: 150, currency: 'EUR', due: '2026-01-10' });
    expect(overdue[0].days_overdue).toBeGreaterThan(0);
  });

  it('lists every view and column of the schema with its comment', async () => {
    const columns = await hub.sql<{ view: string; column: string; comment: string }[]>`
      select c.relname as view, a.attname as column, col_description(c.oid, a.attnum) as comment
      from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where n.nspname = 'bi' and c.relkind = 'v'`;
    for (const { view, column, comment } of columns) {
      expect(doc, `bi.${view}`).toContain(`### \`bi.${view}\``);
      expect(doc, `bi.${view}.${column}`).toContain(`| \`${column}\` | ${comment} |`);
    }
  });
});
