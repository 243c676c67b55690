import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub } from './helpers/hub.js';

// A worker process dies the hard way (SIGKILL, as the OOM killer or a pulled plug would do it)
// in the middle of a CSV sync. The run must be released by the reaper, and the next sync must
// continue from the last committed page: every row stored once, none lost, none tombstoned.

const ROWS = 30_000;
const BATCH = '500';
const STALE_SECONDS = 2;

let hub: TestHub;
let child: ChildProcess | undefined;

beforeAll(async () => {
  hub = await createTestHub({ worker: false, env: { HUB_SYNC_BATCH_SIZE: BATCH, HUB_RUN_STALE_SECONDS: String(STALE_SECONDS), HUB_HEARTBEAT_SECONDS: '1' } });
});
afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  await hub?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function clientsCsv(count: number): Buffer {
  const lines = ['ID,Name,Email,Phone,Amount'];
  for (let n = 1; n <= count; n++) lines.push(`C${n},Client ${n},client${n}@example.com,+1 555 010 ${String(n).padStart(5, '0')},${n * 10}.50`);
  return Buffer.from(lines.join('\n') + '\n');
}

function spawnWorker() {
  const proc = spawn(process.execPath, ['bin/hub.js', 'worker'], {
    cwd: path.resolve(import.meta.dirname, '..'),
    env: { ...process.env, ...hub.env, HUB_SYNC_BATCH_SIZE: BATCH, HUB_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  proc.stdout!.on('data', (chunk) => (output.stdout += chunk));
  proc.stderr!.on('data', (chunk) => (output.stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  return { process: proc, output, exited };
}

describe('crash and resume', () => {
  it('a worker killed with SIGKILL mid-sync loses nothing and duplicates nothing', async () => {
    const { key } = await hub.workspace();
    const created = await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Clients' } });
    expect(created.status).toBe(201);
    const connectionId = (await created.json()).id as string;

    const upload = await hub.request('POST', `/v1/connections/${connectionId}/files?filename=clients.csv`, { key, body: clientsCsv(ROWS), headers: { 'content-type': 'text/csv' } });
    expect(upload.status).toBe(201);
    const { file, sync_run } = await upload.json();
    expect(sync_run).toBeNull();

    const started = await hub.request('POST', `/v1/connections/${connectionId}/syncs`, { key, json: { file_id: file.id } });
    expect(started.status).toBe(202);
    const firstRunId = (await started.json()).id as string;

    // A separate worker process picks the job up; it is killed once a page has been committed.
    const worker = spawnWorker();
    child = worker.process;
    const progress = await until('the child worker to commit its first page', async () => {
      if (worker.process.exitCode !== null) throw new Error(`the worker exited early (${worker.process.exitCode}): ${worker.output.stderr}`);
      const [row] = await hub.sql<{ status: string; rows: number | null }[]>`
        select r.status, (s.read_cursor->'checkpoint'->>'rows')::int as rows
        from hub.sync_runs r left join hub.stream_states s on s.connection_id = r.connection_id and s.stream = 'rows'
        where r.id = ${firstRunId}`;
      if (row.status !== 'queued' && row.status !== 'running') throw new Error(`the first run ended before it could be killed: ${row.status}`);
      return row.status === 'running' && (row.rows ?? 0) > 0 ? row : undefined;
    }, 20_000);
    expect(progress.rows).toBeGreaterThan(0);
    const stderrBeforeKill = worker.output.stderr;
    worker.process.kill('SIGKILL');
    expect(await worker.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(stderrBeforeKill).not.toMatch(/\n\s+at /);

    // Nobody cleaned up: the run still says running, and the connection stays busy.
    const [afterKill] = await hub.sql<{ status: string; checkpoint: number }[]>`
      select r.status, (s.read_cursor->'checkpoint'->>'rows')::int as checkpoint
      from hub.sync_runs r join hub.stream_states s on s.connection_id = r.connection_id and s.stream = 'rows'
      where r.id = ${firstRunId}`;
    expect(afterKill.status).toBe('running');
    expect(afterKill.checkpoint).toBeGreaterThan(0);
    expect(afterKill.checkpoint).toBeLessThan(ROWS); // really killed mid-file
    const refused = await hub.request('POST', `/v1/connections/${connectionId}/syncs`, { key, json: { file_id: file.id } });
    expect(refused.status).toBe(409);

    // What the killed worker committed is whole pages: records match the checkpoint exactly.
    const [committed] = await hub.sql<{ n: number }[]>`select count(*)::int as n from hub.source_records where connection_id = ${connectionId}`;
    expect(committed.n).toBe(afterKill.checkpoint);

    // Once the heartbeat is older than the stale window, a worker starting up reaps the run.
    await until('the dead run\'s heartbeat to go stale', async () => {
      const [row] = await hub.sql<{ stale: boolean }[]>`
        select heartbeat_at < now() - make_interval(secs => ${STALE_SECONDS + 0.5}) as stale from hub.sync_runs where id = ${firstRunId}`;
      return row.stale;
    }, 10_000, 100);
    await hub.startWorker();
    const reaped = await (await hub.request('GET', `/v1/sync-runs/${firstRunId}`, { key })).json();
    expect(reaped.status).toBe('failed');
    expect(reaped.error.code).toBe('worker_lost');
    expect(reaped.finished_at).not.toBeNull();

    // The connection is free again; the next sync of the same file resumes from the checkpoint.
    const again = await hub.request('POST', `/v1/connections/${connectionId}/syncs`, { key, json: { file_id: file.id } });
    expect(again.status).toBe(202);
    const resumed = await hub.waitForRun(key, (await again.json()).id, 30_000);
    expect(resumed.status).toBe('succeeded');
    const stats = resumed.streams.rows;
    expect(stats.resumed_from).toEqual({ rows: afterKill.checkpoint });
    expect(stats.read).toBeLessThan(ROWS);
    expect(stats.read).toBe(ROWS - afterKill.checkpoint);
    expect(stats).toMatchObject({ status: 'succeeded', inserted: ROWS - afterKill.checkpoint, updated: 0, unchanged: 0, quarantined: 0, deleted: 0 });

    // In the database: every client exactly once, alive, nothing quarantined.
    const [records] = await hub.sql<{ live: number; total: number; distinct_ids: number }[]>`
      select count(*) filter (where deleted_at is null)::int as live, count(*)::int as total, count(distinct external_id)::int as distinct_ids
      from hub.source_records where connection_id = ${connectionId}`;
    expect(records).toEqual({ live: ROWS, total: ROWS, distinct_ids: ROWS });
    const [people] = await hub.sql<{ live: number; total: number; distinct_ids: number }[]>`
      select count(*) filter (where deleted_at is null)::int as live, count(*)::int as total, count(distinct external_id)::int as distinct_ids
      from canonical.source_people where connection_id = ${connectionId}`;
    expect(people).toEqual({ live: ROWS, total: ROWS, distinct_ids: ROWS });
    const [deals] = await hub.sql<{ live: number }[]>`select count(*) filter (where deleted_at is null)::int as live from canonical.deals where connection_id = ${connectionId}`;
    expect(deals.live).toBe(ROWS);
    const [quarantine] = await hub.sql<{ n: number }[]>`select count(*)::int as n from hub.quarantine where connection_id = ${connectionId}`;
    expect(quarantine.n).toBe(0);
    const [first, last] = await hub.sql<{ external_id: string; name: string }[]>`
      select external_id, name from canonical.source_people where connection_id = ${connectionId} and external_id in ('C1', ${`C${ROWS}`}) order by external_id`;
    expect([first, last]).toEqual([{ external_id: 'C1', name: 'Client 1' }, { external_id: `C${ROWS}`, name: `Client ${ROWS}` }]);

    // The finished read left no half-read state behind for a later sync to resume into.
    const [state] = await hub.sql<{ read_id: string | null; read_cursor: unknown }[]>`
      select read_id, read_cursor from hub.stream_states where connection_id = ${connectionId} and stream = 'rows'`;
    expect(state).toEqual({ read_id: null, read_cursor: null });
  });
});
