// Webhooks benchmark: events committed through the outbox (emitEvent, one transaction each)
// and delivered by the hub's own worker to a local HTTP receiver.
//
//   npm run bench -- webhooks [--events 10000] [--rate 100] [--concurrency N] [--endpoint-concurrency N] [--phases burst,paced,failing]
//
// Three phases of --events each:
//   burst   every event committed as fast as 8 connections can: deliveries/s the worker sustains
//           to one endpoint (at most HUB_WEBHOOK_ENDPOINT_CONCURRENCY requests in flight);
//   paced   --rate events/s, the receiver answering 200: commit-to-receipt latency when the hub
//           is not backlogged (target: p95 < 500 ms);
//   failing the same pace, the receiver answering 500 to 20 % of requests at random. The retry
//           schedule is scaled 1/1000 here (5 ms, 300 ms, 1.8 s, …) so the phase ends; at full
//           scale a first failure costs 5 s and a second 5 min. Its last deliveries are the
//           unlucky few that failed four or five times: "99 % in" shows the bulk.
// Latency is from the moment the emitting transaction's COMMIT returned to the moment the
// receiver read the first 2xx-answered request of that event. Everything runs in this process
// (emitters, worker, receiver) on an embedded PostgreSQL in a temp dir.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Runner } from 'graphile-worker';
import { bootHub, type Hub } from '../src/boot.js';
import { loadConfig } from '../src/config.js';
import { createWorkspace } from '../src/core/auth/index.js';
import { emitEvent } from '../src/core/events/index.js';
import { createEndpoint } from '../src/core/webhooks/index.js';
import { startWorker } from '../src/jobs/index.js';
import { createLogger } from '../src/log.js';

const TARGET_P95_MS = 500;
const FAILING_SHARE = 0.2;
const FAILING_RETRY_SCALE = 0.001;
const BURST_EMITTERS = 8;
const SUBJECTS = 500;

interface Receiver {
  url: string;
  /** First successful receipt per webhook-id (performance.now()). */
  receivedAt: Map<string, number>;
  requests: number;
  failRate: number;
  close: () => Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver = { receivedAt: new Map<string, number>(), requests: 0, failRate: 0 } as Receiver;
  const server = http.createServer({ keepAlive: true }, (request, response) => {
    request.resume();
    request.on('end', () => {
      receiver.requests++;
      if (Math.random() < receiver.failRate) {
        response.writeHead(500).end('busy');
        return;
      }
      const id = String(request.headers['webhook-id']);
      if (!receiver.receivedAt.has(id)) receiver.receivedAt.set(id, performance.now());
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/hooks`;
  receiver.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return receiver;
}

interface PhaseResult {
  label: string;
  events: number;
  seconds: number;
  deliveriesPerSecond: number;
  p50: number;
  p95: number;
  /** Seconds from the first commit until 99 % of the events had arrived. */
  seconds99: number;
  p99: number;
  max: number;
  requests: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function runPhase(hub: Hub, workspaceId: string, receiver: Receiver, options: { label: string; events: number; rate: number | null; failRate: number }): Promise<PhaseResult> {
  const { sql } = hub.context;
  receiver.receivedAt.clear();
  receiver.requests = 0;
  receiver.failRate = options.failRate;
  const committedAt = new Map<string, number>();
  const started = performance.now();
  let next = 0;
  const emitOne = async () => {
    const n = next++;
    const id = await sql.begin((tx) => emitEvent(tx, { workspaceId, type: 'customer.updated', subject: `customer:${n % SUBJECTS}`, data: { id: `c${n % SUBJECTS}`, n, name: 'Benchmark customer', emails: [`c${n}@example.com`] } }));
    committedAt.set(id, performance.now());
  };
  if (options.rate === null) {
    await Promise.all(Array.from({ length: BURST_EMITTERS }, async () => {
      while (next < options.events) await emitOne();
    }));
  } else {
    // Open loop at a fixed rate: an emit is never delayed by how long earlier ones took.
    const interval = 1000 / options.rate;
    const pending: Promise<void>[] = [];
    for (let n = 0; n < options.events; n++) {
      const due = started + n * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      pending.push(emitOne());
    }
    await Promise.all(pending);
  }
  // The worker's minute tick re-wakes anything a lost wake left behind: 90 s without progress is a stall.
  let progress = { count: -1, at: Date.now() };
  while (receiver.receivedAt.size < options.events) {
    if (receiver.receivedAt.size !== progress.count) progress = { count: receiver.receivedAt.size, at: Date.now() };
    if (Date.now() - progress.at > 90_000) throw new Error(`${options.label}: stalled at ${receiver.receivedAt.size} of ${options.events} events delivered (nothing for 90 s).`);
    if (process.stderr.isTTY) process.stderr.write(`\r  ${options.label}: ${receiver.receivedAt.size.toLocaleString('en-US')} / ${options.events.toLocaleString('en-US')} delivered   `);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  const arrivals = [...receiver.receivedAt.values()].sort((a, b) => a - b);
  const last = arrivals[arrivals.length - 1];
  const latencies = [...committedAt].map(([id, at]) => receiver.receivedAt.get(id)! - at).sort((a, b) => a - b);
  if (latencies.some(Number.isNaN)) throw new Error(`${options.label}: an event arrived that was never committed, or one committed never arrived.`);
  const seconds = (last - started) / 1000;
  return {
    label: options.label, events: options.events, seconds, deliveriesPerSecond: options.events / seconds, seconds99: (percentile(arrivals, 99) - started) / 1000,
    p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: latencies[latencies.length - 1], requests: receiver.requests,
  };
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

function usageError(message: string): Error {
  return Object.assign(new Error(message), { name: 'UsageError' });
}

const positive = (name: string, value: string | undefined) => {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw usageError(`--${name} must be a positive number (got ${value}).`);
  return number;
};

export default async function webhooksBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '10000' },
      rate: { type: 'string', default: '100' },
      concurrency: { type: 'string' },
      'endpoint-concurrency': { type: 'string' },
      phases: { type: 'string', default: 'burst,paced,failing' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write('npm run bench -- webhooks [--events N (10000)] [--rate events/s (100)] [--concurrency N (HUB_WEBHOOK_CONCURRENCY)] [--endpoint-concurrency N (HUB_WEBHOOK_ENDPOINT_CONCURRENCY)] [--phases burst,paced,failing]\n');
    return 0;
  }
  const events = positive('events', values.events)!;
  const rate = positive('rate', values.rate)!;
  const concurrency = positive('concurrency', values.concurrency);
  const endpointConcurrency = positive('endpoint-concurrency', values['endpoint-concurrency']);
  const phases = new Set(values.phases.split(','));
  for (const name of phases) if (!['burst', 'paced', 'failing'].includes(name)) throw usageError(`--phases takes burst, paced and failing (got ${name}).`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-bench-webhooks-'));
  const log = createLogger('warn');
  const env = (retryScale: number) => ({
    HUB_DATA_DIR: tmp,
    HUB_PG_PORT: String(pgPort),
    HUB_MASTER_KEY: masterKey,
    HUB_LOG_LEVEL: 'warn',
    HUB_ALLOW_PRIVATE_WEBHOOKS: 'true',
    HUB_ALLOW_HTTP_WEBHOOKS: 'true',
    HUB_WEBHOOK_RETRY_SCALE: String(retryScale),
    ...(concurrency ? { HUB_WEBHOOK_CONCURRENCY: String(concurrency) } : {}),
    ...(endpointConcurrency ? { HUB_WEBHOOK_ENDPOINT_CONCURRENCY: String(endpointConcurrency) } : {}),
  });
  const pgPort = await freePort();
  const masterKey = crypto.randomBytes(32).toString('base64');
  let hub: Hub | undefined;
  let runner: Runner | undefined;
  const receiver = await startReceiver();
  try {
    const cpus = os.cpus();
    hub = await bootHub({ config: loadConfig(env(1)), log });
    const { context } = hub;
    const [{ version }] = await context.sql<{ version: string }[]>`select current_setting('server_version') as version`;
    console.log(`webhooks benchmark: ${events.toLocaleString('en-US')} events per phase, paced at ${rate}/s; node ${process.version}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, embedded PostgreSQL ${version}`);
    console.log(`worker: HUB_WEBHOOK_CONCURRENCY ${context.config.HUB_WEBHOOK_CONCURRENCY}, HUB_WEBHOOK_ENDPOINT_CONCURRENCY ${context.config.HUB_WEBHOOK_ENDPOINT_CONCURRENCY}; ${SUBJECTS} subjects (ordered per subject)`);
    const workspace = await createWorkspace(context.sql, 'Webhook benchmark');
    await createEndpoint(context, workspace.id, { url: receiver.url });

    const results: PhaseResult[] = [];
    const phase = async (label: string, phaseRate: number | null, failRate: number, retryScale: number) => {
      await runner?.stop();
      context.config = loadConfig(env(retryScale));
      runner = await startWorker(context, hub!.database.url);
      console.log(`${label}…`);
      results.push(await runPhase(hub!, workspace.id, receiver, { label, events, rate: phaseRate, failRate }));
    };
    if (phases.has('burst')) await phase('burst, receiver answering 200', null, 0, 1);
    if (phases.has('paced')) await phase(`paced ${rate}/s, receiver answering 200`, rate, 0, 1);
    if (phases.has('failing')) await phase(`paced ${rate}/s, receiver failing ${FAILING_SHARE * 100} %`, rate, FAILING_SHARE, FAILING_RETRY_SCALE);

    const ms = (value: number) => `${Math.round(value).toLocaleString('en-US')} ms`;
    const rows = [
      ['', 'deliveries/s', 'elapsed', '99 % in', 'p50', 'p95', 'p99', 'max', 'requests'],
      ...results.map((result) => [result.label, Math.round(result.deliveriesPerSecond).toLocaleString('en-US'), `${result.seconds.toFixed(1)} s`, `${result.seconds99.toFixed(1)} s`, ms(result.p50), ms(result.p95), ms(result.p99), ms(result.max), result.requests.toLocaleString('en-US')]),
    ];
    const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
    console.log('');
    console.log(rows.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('   ')).join('\n'));
    console.log('');
    console.log('latency: commit of the emitting transaction → first 2xx-answered request at the receiver.');
    const idle = results.find((result) => result.label.startsWith('paced') && result.label.endsWith('200'));
    if (!idle) return 0;
    const ok = idle.p95 < TARGET_P95_MS;
    console.log(`  p95 < ${TARGET_P95_MS} ms when idle (paced, receiver answering 200): ${ok ? 'PASS' : 'FAIL'}  (${ms(idle.p95)})`);
    return ok ? 0 : 1;
  } finally {
    await runner?.stop();
    await receiver.close();
    await hub?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
