import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Runner } from 'graphile-worker';
import { inject } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import { connectors } from '../../src/connectors/index.js';
import { createApiKey, createWorkspace, type Role } from '../../src/core/auth/index.js';
import type { HubContext } from '../../src/core/context.js';
import { openDatabase, type Sql } from '../../src/db/index.js';
import { startWorker } from '../../src/jobs/index.js';
import { createLogger } from '../../src/log.js';

// A hub per test file: its own database (from the migrated template), data dir, logs and worker.

export interface TestHub {
  context: HubContext;
  sql: Sql;
  databaseUrl: string;
  dataDir: string;
  env: Record<string, string>;
  /** Every log line the hub wrote, for assertions (e.g. that no secret leaks). */
  logs: string[];
  request: (method: string, urlPath: string, options?: { key?: string; json?: unknown; body?: BodyInit | Buffer; headers?: Record<string, string> }) => Promise<Response>;
  workspace: (role?: Role) => Promise<{ workspaceId: string; key: string; readKey: string }>;
  startWorker: () => Promise<Runner>;
  waitForRun: (key: string, runId: string, timeoutMs?: number) => Promise<any>;
  close: () => Promise<void>;
}

export async function createTestHub(options: { worker?: boolean; env?: Record<string, string> } = {}): Promise<TestHub> {
  const databaseName = `test_${crypto.randomBytes(6).toString('hex')}`;
  const adminUrl = inject('pgAdminUrl');
  const admin = openDatabase(adminUrl, { max: 1 });
  await admin.sql.unsafe(`create database ${databaseName} template ${inject('templateDb')}`);
  await admin.close();
  const databaseUrl = adminUrl.replace(/\/postgres$/, `/${databaseName}`);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-test-data-'));
  const env = {
    DATABASE_URL: databaseUrl,
    HUB_DATA_DIR: dataDir,
    HUB_MASTER_KEY: crypto.randomBytes(32).toString('base64'),
    HUB_LOG_LEVEL: 'debug',
    HUB_HEARTBEAT_SECONDS: '1',
    HUB_RUN_STALE_SECONDS: '3',
    ...options.env,
  };
  const config = loadConfig(env);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const database = openDatabase(databaseUrl);
  const context: HubContext = { sql: database.sql, config, log: createLogger('debug', sink), masterKey: Buffer.from(env.HUB_MASTER_KEY, 'base64'), connectors };
  const app = createApp(context);
  const runners: Runner[] = [];

  const hub: TestHub = {
    context,
    sql: database.sql,
    databaseUrl,
    dataDir,
    env,
    logs,
    request: async (method, urlPath, requestOptions = {}) => {
      const headers: Record<string, string> = { ...requestOptions.headers };
      if (requestOptions.key) headers.authorization = `Bearer ${requestOptions.key}`;
      let body = Buffer.isBuffer(requestOptions.body) ? new Uint8Array(requestOptions.body) : requestOptions.body;
      if (requestOptions.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(requestOptions.json);
      }
      return app.request(urlPath, { method, headers, body });
    },
    workspace: async () => {
      const workspace = await createWorkspace(database.sql, `Workspace ${crypto.randomBytes(3).toString('hex')}`);
      const admin = await createApiKey(database.sql, { workspaceId: workspace.id, role: 'admin' });
      const reader = await createApiKey(database.sql, { workspaceId: workspace.id, role: 'read' });
      return { workspaceId: workspace.id, key: admin.key, readKey: reader.key };
    },
    startWorker: async () => {
      const runner = await startWorker(context, databaseUrl, { pollInterval: 200 });
      runners.push(runner);
      return runner;
    },
    waitForRun: async (key, runId, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const response = await hub.request('GET', `/v1/sync-runs/${runId}`, { key });
        const run = await response.json();
        if (run.status === 'succeeded' || run.status === 'failed') return run;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`sync run ${runId} did not finish within ${timeoutMs} ms`);
    },
    close: async () => {
      // A worker still deriving (a big reconcile after a sync) is stopped, not waited for:
      // graceful stop would let the job run to its end.
      for (const runner of runners) {
        let timer: NodeJS.Timeout | undefined;
        const stopped = runner.stop().then(() => 'stopped' as const, () => 'stopped' as const);
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, 5_000, 'late')));
        if ((await Promise.race([stopped, late])) === 'late') await runner.kill().catch(() => undefined);
        clearTimeout(timer);
      }
      await database.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  if (options.worker !== false) await hub.startWorker();
  return hub;
}
