import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub } from './helpers/hub.js';

// The `hub` command as an owner runs it: a child process against this file's database.

let hub: TestHub;
beforeAll(async () => {
  hub = await createTestHub({ worker: false });
});
afterAll(async () => {
  await hub?.close();
});

function runHub(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/hub.js', ...args], {
      cwd: path.resolve(import.meta.dirname, '..'),
      env: { ...process.env, ...hub.env, HUB_LOG_LEVEL: 'warn', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('hub CLI', () => {
  it('stops with one line naming the variable when a setting is invalid', async () => {
    const result = await runHub(['migrate'], { HUB_PG_PORT: 'not-a-port' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('HUB_PG_PORT');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses an external database without HUB_MASTER_KEY, saying how to make one', async () => {
    const result = await runHub(['migrate'], { HUB_MASTER_KEY: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('HUB_MASTER_KEY is required when DATABASE_URL is set');
  });

  it('creates a workspace and a read key that the API accepts for reading only', async () => {
    const workspace = await runHub(['workspaces', 'create', 'Repair shop']);
    expect(workspace.code).toBe(0);
    const workspaceId = workspace.stdout.trim();
    const created = await runHub(['keys', 'create', '--workspace', workspaceId, '--role', 'read']);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^hub_[0-9A-Za-z]{32}$/);

    expect((await hub.request('GET', '/v1/connections', { key })).status).toBe(200);
    expect((await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'x' } })).status).toBe(403);
    const [stored] = await hub.sql`select count(*)::int as n from hub.api_keys where hash = ${key} or prefix = ${key}`;
    expect(stored.n).toBe(0); // only a hash and a short prefix are kept
  });

  it('syncs a file in the foreground with a progress line and a summary', async () => {
    const { key } = await hub.workspace();
    const connection = await (await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Leads' } })).json();
    const file = path.join(hub.dataDir, 'leads.csv');
    fs.writeFileSync(file, 'Email,Name\nanna@example.com,Anna\nboris@example.com,Boris\nnot-an-email,Broken\n');

    const result = await runHub(['sync', connection.id, '--file', file]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/rows: read 3, written 2, unchanged 0, quarantined 1 \(\d+ records\/s\)/);
    expect(result.stdout).toContain('rows: succeeded; read 3, inserted 2, updated 0, unchanged 0, quarantined 1, deleted 0');
    const [people] = await hub.sql`select count(*)::int as n from canonical.source_people where connection_id = ${connection.id}`;
    expect(people.n).toBe(2);
  });

  it('names an unknown connection in one line and exits non-zero', async () => {
    const result = await runHub(['sync', '00000000-0000-0000-0000-000000000000']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('hub: No connection 00000000-0000-0000-0000-000000000000.');
  });
});
