import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import { ConfigError } from './config.js';
import { bootHub, startApi, type Hub } from './boot.js';
import { bootstrapIfEmpty, createApiKey, createWorkspace, type Role } from './core/auth/index.js';
import { HubError } from './core/errors.js';
import { registerLocalFile } from './core/files/index.js';
import { getSyncRun, requestSync, runSync, type StreamStats, type SyncRunRow } from './core/ingest/index.js';
import { startWorker } from './jobs/index.js';
import { drainFactChanges, reconcileFull, RECONCILE_KINDS } from './core/reconcile/index.js';
import { refreshRollups } from './core/rollups/index.js';
import { biRoleUrl, createBiRole, dropBiRole, listBiRoles } from './core/bi.js';
import { evalMatching, formatEvalReport } from './core/reconcile/eval.js';
import fs from 'node:fs';

const USAGE = `hub: integration hub for service businesses

  hub start                         API and worker in one process (embedded PostgreSQL unless DATABASE_URL is set)
  hub api                           API only
  hub worker                        worker only (run as many as you like against one database)
  hub migrate                       apply database migrations and exit
  hub workspaces create NAME        create a workspace, print its id
  hub keys create --workspace ID --role admin|read [--name NAME]
                                    create an API key (printed once)
  hub sync CONNECTION_ID [--file PATH] [--confirm-deletes]
                                    run one sync in the foreground with a progress line
  hub reconcile --workspace ID [--full] [--train]
                                    bring golden customers/organizations up to date (pending changes),
                                    or re-run in full (--full), re-estimating the model (--train)
  hub eval-matching FILE --mapping MAPPING.json --truth COLUMN [--truth-pattern REGEX] [--settings JSON] [--keep] [--json]
                                    load a labelled CSV into a scratch workspace, reconcile it and print
                                    pairwise precision, recall, F1 and the worst mistakes
  hub rollups rebuild --workspace ID
                                    recompute every metric rollup of the workspace from the facts
                                    (writes only rows that differ; prints how many)
  hub bi-role create --workspace ID [--name NAME]
                                    a read-only database login for BI tools that sees the bi views
                                    of one workspace; prints its password and URL once
  hub bi-role list | hub bi-role drop NAME
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return serveForever({ api: true, worker: true });
    case 'api':
      return serveForever({ api: true, worker: false });
    case 'worker':
      return serveForever({ api: false, worker: true });
    case 'migrate':
      return withHub(async () => {
        console.log('Migrations are applied.');
      });
    case 'workspaces':
      return workspacesCommand(rest);
    case 'keys':
      return keysCommand(rest);
    case 'sync':
      return syncCommand(rest);
    case 'reconcile':
      return reconcileCommand(rest);
    case 'eval-matching':
      return evalMatchingCommand(rest);
    case 'rollups':
      return rollupsCommand(rest);
    case 'bi-role':
      return biRoleCommand(rest);
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return command ? 0 : 1;
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
      return 1;
  }
}

async function withHub(work: (hub: Hub) => Promise<void>, options: { quiet?: boolean } = {}): Promise<number> {
  const hub = await bootHub(options.quiet ? { log: undefined } : {});
  try {
    await work(hub);
    return 0;
  } finally {
    await hub.close();
  }
}

async function serveForever(roles: { api: boolean; worker: boolean }): Promise<number> {
  const hub = await bootHub();
  const { context } = hub;
  const stops: (() => Promise<void>)[] = [];
  if (roles.worker) {
    const runner = await startWorker(context, hub.database.url);
    stops.push(() => runner.stop());
    context.log.info({ concurrency: context.config.HUB_WORKER_CONCURRENCY }, 'worker started');
  }
  if (roles.api) {
    const server = await startApi(context, context.config.PORT, context.config.HUB_HOST);
    stops.push(() => new Promise((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const base = `http://${context.config.HUB_HOST}:${port}`;
    context.log.info({ url: base }, 'API listening');
    const bootstrap = await bootstrapIfEmpty(context.sql);
    if (bootstrap) {
      // Printed once, to the terminal, never to the log: the key is not stored in clear anywhere.
      process.stderr.write(`\nFirst start: created a workspace and an admin API key. It is shown only now, keep it:\n\n  ${bootstrap.key}\n\nTry it:\n  curl -H "Authorization: Bearer ${bootstrap.key}" ${base}/v1/connectors\n\nAPI reference: ${base}/docs\n\n`);
    }
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  context.log.info('shutting down');
  // Once stopping, a pooled worker connection may still report the database closing it
  // ("terminating connection due to administrator command"): expected now, not a crash.
  process.on('uncaughtException', (error: Error & { code?: string }) => {
    if (error.code === '57P01' || /terminating connection|Connection terminated/i.test(error.message)) {
      context.log.debug({ err: error.message }, 'connection closed during shutdown');
      return;
    }
    context.log.fatal({ err: error }, 'uncaught error during shutdown');
    process.exit(1);
  });
  for (const stop of stops.reverse()) await stop();
  await hub.close();
  return 0;
}

async function workspacesCommand(args: string[]): Promise<number> {
  const [sub, name] = args;
  if (sub !== 'create' || !name) throw new UsageError('Usage: hub workspaces create NAME');
  return withHub(async ({ context }) => {
    const workspace = await createWorkspace(context.sql, name);
    console.log(workspace.id);
  });
}

async function keysCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { workspace: { type: 'string' }, role: { type: 'string', default: 'admin' }, name: { type: 'string' } } });
  if (positionals[0] !== 'create' || !values.workspace) throw new UsageError('Usage: hub keys create --workspace ID --role admin|read [--name NAME]');
  if (values.role !== 'admin' && values.role !== 'read') throw new UsageError('--role must be admin or read');
  return withHub(async ({ context }) => {
    const [workspace] = await context.sql`select id from hub.workspaces where id::text = ${values.workspace!}`;
    if (!workspace) throw new HubError('not_found', 404, `No workspace ${values.workspace}.`);
    const { key } = await createApiKey(context.sql, { workspaceId: workspace.id, role: values.role as Role, name: values.name });
    console.log(key);
  });
}

async function syncCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { file: { type: 'string' }, 'confirm-deletes': { type: 'boolean', default: false } } });
  const connectionId = positionals[0];
  if (!connectionId) throw new UsageError('Usage: hub sync CONNECTION_ID [--file PATH] [--confirm-deletes]');
  let finished: SyncRunRow | undefined;
  await withHub(async ({ context }) => {
    const [connection] = await context.sql<{ id: string; workspace_id: string }[]>`
      select id, workspace_id from hub.connections where id::text = ${connectionId} and deleted_at is null`;
    if (!connection) throw new HubError('not_found', 404, `No connection ${connectionId}.`);
    const file = values.file ? await registerLocalFile(context, { workspaceId: connection.workspace_id, connectionId: connection.id }, values.file) : undefined;
    const run = await requestSync(context, connection.workspace_id, connection.id, 'cli', { file_id: file?.id, confirm_deletes: values['confirm-deletes'] || undefined });
    const started = Date.now();
    const progress = (stream: string, stats: StreamStats) => {
      const seconds = (Date.now() - started) / 1000;
      const written = stats.inserted + stats.updated;
      process.stderr.write(`\r${stream}: read ${stats.read}, written ${written}, unchanged ${stats.unchanged}, quarantined ${stats.quarantined} (${Math.round(stats.read / Math.max(seconds, 0.001))} records/s)   `);
    };
    finished = await runSync(context, run.id, { onProgress: ({ stream, stats }) => progress(stream, stats) });
    // Another worker may have claimed the job first: follow that run to its end instead.
    while (!finished || finished.status === 'queued' || finished.status === 'running') {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      finished = await getSyncRun(context, connection.workspace_id, run.id);
      for (const [stream, stats] of Object.entries(finished.streams)) progress(stream, stats);
    }
    process.stderr.write('\n');
    for (const note of finished.notes) console.log(`note: ${note.message}`);
    for (const [stream, stats] of Object.entries(finished.streams)) {
      console.log(`${stream}: ${stats.status}; read ${stats.read}, inserted ${stats.inserted}, updated ${stats.updated}, unchanged ${stats.unchanged}, quarantined ${stats.quarantined}, deleted ${stats.deleted}${stats.error ? `; ${stats.error.message}` : ''}`);
    }
    console.log(`sync run ${finished.id}: ${finished.status}${finished.error ? ` (${finished.error.message})` : ''}`);
  });
  return finished?.status === 'succeeded' ? 0 : 1;
}

async function reconcileCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { workspace: { type: 'string' }, full: { type: 'boolean', default: false }, train: { type: 'boolean', default: false } } });
  if (!values.workspace) throw new UsageError('Usage: hub reconcile --workspace ID [--full] [--train]');
  const workspaceId = values.workspace;
  return withHub(async ({ context }) => {
    const [workspace] = await context.sql`select id from hub.workspaces where id::text = ${workspaceId}`;
    if (!workspace) throw new HubError('not_found', 404, `No workspace ${workspaceId}.`);
    if (!values.full) {
      const totals = await drainFactChanges(context.sql, workspaceId);
      console.log(`applied ${totals.batches} batches of changes: ${totals.records} records re-clustered, ${totals.events} events`);
      return;
    }
    for (const kind of RECONCILE_KINDS) {
      process.stderr.write(`reconciling ${kind === 'person' ? 'customers' : 'organizations'}…\n`);
      const stats = await reconcileFull(context.sql, workspaceId, kind, { train: values.train });
      console.log(`${kind}: ${stats.records} records → ${stats.clusters} golden, ${stats.candidate_pairs} pairs compared of ${stats.all_pairs} possible, ${stats.review_candidates} to review, ${stats.events} events`);
      for (const block of stats.oversized_blocks.slice(0, 5)) console.log(`  skipped oversized block ${block.key} (${block.records} records)`);
    }
  }, { quiet: true });
}

async function biRoleCommand(args: string[]): Promise<number> {
  const usage = 'Usage: hub bi-role create --workspace ID [--name NAME] | hub bi-role list | hub bi-role drop NAME';
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { workspace: { type: 'string' }, name: { type: 'string' } } });
  const [sub, name] = positionals;
  if (sub === 'create' && values.workspace && positionals.length === 1) {
    return withHub(async ({ context, database }) => {
      const { role, password } = await createBiRole(context.sql, values.workspace!, values.name);
      console.log(`Created BI role ${role} for workspace ${values.workspace}. Its password is shown only now:\n\n  ${password}\n\n  ${biRoleUrl(database.url, role, password)}\n\nIt can read the views of schema bi (docs/bi.md) for this workspace, and nothing else.`);
    }, { quiet: true });
  }
  if (sub === 'list' && positionals.length === 1) {
    return withHub(async ({ context }) => {
      for (const role of await listBiRoles(context.sql)) console.log(`${role.role}\t${role.workspace_id}\t${role.created_at}`);
    }, { quiet: true });
  }
  if (sub === 'drop' && name && positionals.length === 2) {
    return withHub(async ({ context }) => {
      await dropBiRole(context.sql, name);
      console.log(`Dropped BI role ${name}.`);
    }, { quiet: true });
  }
  throw new UsageError(usage);
}

async function rollupsCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { workspace: { type: 'string' } } });
  if (positionals[0] !== 'rebuild' || positionals.length !== 1 || !values.workspace) throw new UsageError('Usage: hub rollups rebuild --workspace ID');
  const workspaceId = values.workspace;
  return withHub(async ({ context }) => {
    const [workspace] = await context.sql`select id from hub.workspaces where id::text = ${workspaceId}`;
    if (!workspace) throw new HubError('not_found', 404, `No workspace ${workspaceId}.`);
    process.stderr.write('rebuilding metric rollups…\n');
    const stats = await refreshRollups(context.sql, workspaceId, { full: true });
    console.log(`rebuilt ${stats.periods} periods in ${(stats.ms / 1000).toFixed(1)} s: ${stats.rows_changed} rows written, ${stats.rows_removed} removed, ${stats.events} metrics.updated events`);
  }, { quiet: true });
}

async function evalMatchingCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args, allowPositionals: true,
    options: { mapping: { type: 'string' }, truth: { type: 'string' }, 'truth-pattern': { type: 'string' }, examples: { type: 'string' }, settings: { type: 'string' }, keep: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
  });
  const file = positionals[0];
  if (!file || !values.mapping || !values.truth) throw new UsageError('Usage: hub eval-matching FILE --mapping MAPPING.json --truth COLUMN [--truth-pattern REGEX] [--settings JSON] [--keep] [--json]');
  const mapping = readJson(values.mapping, '--mapping');
  const settings = values.settings ? parseJson(values.settings, '--settings') : undefined;
  return withHub(async ({ context }) => {
    const report = await evalMatching(context, { file, mapping, truth: values.truth!, truthPattern: values['truth-pattern'], settings, keep: values.keep, examples: values.examples ? Number(values.examples) : undefined });
    if (values.json) {
      console.log(JSON.stringify(report, null, 2));
      return;
    }
    process.stdout.write(formatEvalReport(report));
  }, { quiet: true });
}

function readJson(file: string, flag: string): Record<string, unknown> {
  if (!fs.existsSync(file)) throw new UsageError(`${flag}: no file at ${file}.`);
  return parseJson(fs.readFileSync(file, 'utf8'), flag);
}

function parseJson(text: string, flag: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // reported below
  }
  throw new UsageError(`${flag} must be a JSON object.`);
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Errors an owner can act on are one line; anything else is a bug and keeps its stack.
    if (error instanceof ConfigError || error instanceof UsageError || error instanceof HubError) process.stderr.write(`hub: ${error.message}\n`);
    else process.stderr.write(`hub: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
