import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// `npm start` on a machine with nothing but Node: embedded PostgreSQL, first-start key, restarts that keep everything.

const children: ChildProcess[] = [];
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-start-'));
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  // The embedded postmaster outlives a SIGKILLed hub by design; stop it through its pid file.
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  if (fs.existsSync(pidFile)) {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // already gone
    }
    for (let i = 0; i < 100 && fs.existsSync(pidFile); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface Started {
  child: ChildProcess;
  baseUrl: string;
  output: () => string;
}

async function startHub(pgPort: number): Promise<Started> {
  const env: Record<string, string | undefined> = { ...process.env, HUB_DATA_DIR: dataDir, HUB_PG_PORT: String(pgPort), PORT: '0', HUB_LOG_LEVEL: 'info' };
  delete env.DATABASE_URL;
  delete env.HUB_MASTER_KEY;
  const child = spawn(process.execPath, ['bin/hub.js', 'start'], { cwd: path.resolve(import.meta.dirname, '..'), env });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const listening = /"url":"(http:\/\/127\.0\.0\.1:\d+)","msg":"API listening"/.exec(output);
    // The first-start banner follows the listening line; give it a moment to appear.
    if (listening && (output.includes('Worker connected') || Date.now() > deadline - 55_000)) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      return { child, baseUrl: listening[1], output: () => output };
    }
    if (child.exitCode !== null) throw new Error(`hub start exited early:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`hub start did not come up:\n${output}`);
}

describe('hub start with no DATABASE_URL', () => {
  it('runs on embedded PostgreSQL, prints a working admin key once, and keeps everything across a kill -9', async () => {
    const pgPort = await freePort();
    const first = await startHub(pgPort);
    const key = /\b(hub_[0-9A-Za-z]{32})\b/.exec(first.output())?.[1];
    expect(key, first.output()).toBeDefined();
    expect(first.output()).toContain(`curl -H "Authorization: Bearer ${key}" ${first.baseUrl}/v1/connectors`);
    expect(fs.existsSync(path.join(dataDir, 'master.key'))).toBe(true);

    const created = await fetch(`${first.baseUrl}/v1/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'csv', name: 'Survives restarts', credentials: { bearer_token: 'kept-secret' } }),
    });
    expect(created.status).toBe(201);
    const connection = await created.json();

    // A hard kill leaves the postmaster running; the next start must stop it and carry on.
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));

    const second = await startHub(pgPort);
    expect(second.output()).not.toMatch(/First start/);
    const readBack = await fetch(`${second.baseUrl}/v1/connections/${connection.id}`, { headers: { authorization: `Bearer ${key}` } });
    expect(readBack.status).toBe(200);
    expect(await readBack.json()).toMatchObject({ name: 'Survives restarts', has_credentials: true });
    expect((await fetch(`${second.baseUrl}/readyz`)).status).toBe(200);

    second.child.kill('SIGINT');
    const code = await new Promise((resolve) => second.child.once('exit', resolve));
    expect(code, second.output().slice(-3000)).toBe(0);
  });
});
