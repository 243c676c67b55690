import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { migrateDatabase, openDatabase, startEmbeddedPostgres } from '../src/db/index.js';

export const TEMPLATE_DB = 'hub_template';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    templateDb: string;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A test run that was killed leaves its postmaster running: stop those whose run is gone. */
function reapAbandonedClusters(): void {
  for (const entry of fs.readdirSync(os.tmpdir())) {
    if (!entry.startsWith('hub-test-pg-')) continue;
    const dir = path.join(os.tmpdir(), entry);
    const runnerFile = path.join(dir, 'runner.pid');
    if (!fs.existsSync(runnerFile)) continue; // being created by a concurrent run
    const runner = Number(fs.readFileSync(runnerFile, 'utf8').trim());
    if (isAlive(runner)) continue;
    const pidFile = path.join(dir, 'pg', 'postmaster.pid');
    const postmaster = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) : NaN;
    if (Number.isInteger(postmaster) && isAlive(postmaster)) process.kill(postmaster, 'SIGQUIT'); // immediate: nothing here is worth keeping
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export default async function setup(project: TestProject) {
  reapAbandonedClusters();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-test-pg-'));
  fs.writeFileSync(path.join(dataDir, 'runner.pid'), String(process.pid));
  const server = await startEmbeddedPostgres({ dataDir, port: await freePort() });
  const admin = openDatabase(server.url('postgres'), { max: 1 });
  await admin.sql.unsafe(`create database ${TEMPLATE_DB}`);
  await admin.close();
  const template = openDatabase(server.url(TEMPLATE_DB), { max: 2 });
  await migrateDatabase(template);
  await template.close();
  project.provide('pgAdminUrl', server.url('postgres'));
  project.provide('templateDb', TEMPLATE_DB);
  return async () => {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
}
