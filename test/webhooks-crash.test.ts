import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitEvent } from '../src/core/events/index.js';
import { createTestHub, type TestHub } from './helpers/hub.js';
import { startReceiver, type Receiver } from './helpers/webhook-receiver.js';

// A worker process is SIGKILLed after the change committed and while its webhook request is in
// flight (the receiver holds it unanswered), or after it took a delivery's job but before it
// claimed the delivery. Once a worker starts again the event must still be delivered: same
// webhook-id, valid signature, answered once.

const ENV = { HUB_ALLOW_PRIVATE_WEBHOOKS: 'true', HUB_ALLOW_HTTP_WEBHOOKS: 'true', HUB_WEBHOOK_TIMEOUT_SECONDS: '2' };

let hub: TestHub;
let receiver: Receiver;
let child: ChildProcess | undefined;

beforeAll(async () => {
  receiver = await startReceiver();
  hub = await createTestHub({ worker: false, env: ENV });
});
afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  await hub?.close();
  await receiver?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function spawnWorker() {
  const proc = spawn(process.execPath, ['bin/hub.js', 'worker'], {
    cwd: path.resolve(import.meta.dirname, '..'),
    env: { ...process.env, ...hub.env, HUB_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
  return { proc, exited, stderr: () => stderr };
}

describe('a worker killed between the change and the delivery', () => {
  it('still delivers the event once a worker starts again', async () => {
    const { key } = await hub.workspace();
    const hookPath = '/crash';
    receiver.on(hookPath, ({ n }) => (n === 1 ? 'hang' : { status: 200 }));
    const endpoint = await (await hub.request('POST', '/v1/webhook-endpoints', { key, json: { url: receiver.url(hookPath), event_types: ['sync_run.completed'] } })).json();
    receiver.verifyWith(hookPath, endpoint.secret);
    const connection = await (await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Clients' } })).json();
    const upload = await (await hub.request('POST', `/v1/connections/${connection.id}/files?filename=c.csv&sync=true`, { key, body: 'ID,Name\n1,Ann\n', headers: { 'content-type': 'text/csv' } })).json();

    const worker = spawnWorker();
    child = worker.proc;
    await receiver.waitFor('the first request', () => receiver.received.length === 1, 30_000);
    worker.proc.kill('SIGKILL');
    expect(await worker.exited).toBe('SIGKILL');

    // The change is committed; the delivery is stuck in flight with its dead worker.
    expect((await hub.waitForRun(key, upload.sync_run.id)).status).toBe('succeeded');
    const [stuck] = await hub.sql<{ status: string; attempts: number }[]>`select status, attempts from hub.webhook_deliveries where endpoint_id = ${endpoint.id}`;
    expect(stuck).toEqual({ status: 'sending', attempts: 0 });

    // The dead worker's claim lapses (timeout + margin); a worker starting after that takes the
    // delivery over at once (one starting sooner does so at its next minute tick).
    for (let lapsed = false; !lapsed; await sleep(100)) {
      [{ lapsed }] = await hub.sql<{ lapsed: boolean }[]>`select bool_and(claimed_until < now()) as lapsed from hub.webhook_deliveries where endpoint_id = ${endpoint.id}`;
    }
    await hub.startWorker();
    await receiver.waitFor('the redelivery', () => receiver.on2xx(hookPath).length === 1, 30_000);
    await sleep(500);

    const requests = receiver.received.filter((entry) => entry.path === hookPath);
    expect(requests.map((entry) => entry.status)).toEqual(['hung', 200]);
    expect(requests[1].id).toBe(requests[0].id);
    expect(requests[1].payload).toMatchObject({ type: 'sync_run.completed', data: { id: upload.sync_run.id } });
    expect(requests.every((entry) => entry.verifiedWith.length === 1)).toBe(true);
    const [delivery] = await hub.sql`select status, attempts from hub.webhook_deliveries where endpoint_id = ${endpoint.id}`;
    expect(delivery).toEqual({ status: 'succeeded', attempts: 1 });
  });

  it('still delivers an event whose job was taken by a worker that died before claiming it', async () => {
    const { key, workspaceId } = await hub.workspace();
    const hookPath = '/taken-then-lost';
    const endpoint = await (await hub.request('POST', '/v1/webhook-endpoints', { key, json: { url: receiver.url(hookPath) } })).json();
    receiver.verifyWith(hookPath, endpoint.secret);
    // The event commits with its job already taken by a "worker" that then died (in one
    // transaction, so the live worker never sees the job free): graphile-worker would hold that
    // job for 4 hours. Three minutes have passed since.
    const eventId = await hub.sql.begin(async (tx) => {
      const id = await emitEvent(tx, { workspaceId, type: 'customer.updated', data: { id: 'c1' } });
      const [{ id: deliveryId }] = await tx`update hub.webhook_deliveries set created_at = now() - interval '3 minutes' where event_id = ${id} returning id`;
      await tx`update graphile_worker._private_jobs set locked_at = now() - interval '3 minutes', locked_by = 'worker-that-died', attempts = 1
               where key = ${`webhook_delivery:${deliveryId}`}`;
      return id;
    });
    await sleep(700);
    expect(receiver.received.filter((entry) => entry.path === hookPath)).toEqual([]);

    await hub.startWorker(); // recovers at start, as at every minute's tick
    await receiver.waitFor('the recovered delivery', () => receiver.on2xx(hookPath).length === 1, 20_000);
    await sleep(300);
    expect(receiver.received.filter((entry) => entry.path === hookPath)).toHaveLength(1);
    expect(receiver.on2xx(hookPath)[0]).toMatchObject({ id: eventId, verifiedWith: [endpoint.secret] });
  });
});
