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

export default async function setup(project: TestProject) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-test-pg-'));
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
