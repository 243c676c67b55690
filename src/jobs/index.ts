import { run, type Runner, type TaskList } from 'graphile-worker';
import type { HubContext } from '../core/context.js';
import { reapStaleRuns, requestScheduledSyncs, runSync, SYNC_TASK } from '../core/ingest/index.js';
import { attemptDelivery, recoverDeliveries, WEBHOOK_DELIVERY_TASK } from '../core/webhooks/index.js';
import { DERIVE_TASK, enqueueDerive } from '../core/ingest/changes.js';
import { drainFactChanges } from '../core/reconcile/index.js';
import { markPassedDueDates, refreshRollups } from '../core/rollups/index.js';
import { workerLogger } from './logger.js';

// graphile-worker tasks: thin, typed, calling into src/core.

interface SyncPayload {
  sync_run_id: string;
}

interface WebhookDeliveryPayload {
  delivery_id: number;
}

export const TICK_TASK = 'tick';

export function taskList(context: HubContext): TaskList {
  return {
    [SYNC_TASK]: async (payload) => {
      await runSync(context, (payload as SyncPayload).sync_run_id);
    },
    // Golden records (and rollups) catch up with the facts a sync page, a deletion or an admin changed.
    [DERIVE_TASK]: async (payload) => {
      const { workspace_id: workspaceId } = payload as { workspace_id: string };
      const totals = await drainFactChanges(context.sql, workspaceId);
      if (totals.batches > 0) context.log.info({ workspace_id: workspaceId, ...totals }, 'golden records brought up to date');
      // After reconciliation: merges and splits change who the customers are.
      const rollups = await refreshRollups(context.sql, workspaceId);
      if (rollups.periods > 0) context.log.info({ workspace_id: workspaceId, ...rollups }, 'metric rollups brought up to date');
    },
    // Every minute: fail runs whose worker died, start syncs that are due, let due dates that passed make invoices overdue.
    [TICK_TASK]: async () => {
      const reaped = await reapStaleRuns(context.sql, context.config.HUB_RUN_STALE_SECONDS);
      if (reaped.length > 0) context.log.warn({ sync_run_ids: reaped }, 'reaped sync runs whose worker stopped');
      await requestScheduledSyncs(context);
      await context.sql.begin(async (tx) => {
        for (const workspaceId of await markPassedDueDates(tx as never)) await enqueueDerive(tx as never, workspaceId);
      });
      const requeued = await recoverDeliveries(context);
      if (requeued > 0) context.log.warn({ deliveries: requeued }, 'requeued webhook deliveries lost with their worker');
    },
  };
}

/** Webhook deliveries run in a pool of their own: slow receivers never hold up syncs. */
export function webhookTaskList(context: HubContext): TaskList {
  return {
    [WEBHOOK_DELIVERY_TASK]: async (payload) => {
      await attemptDelivery(context, (payload as WebhookDeliveryPayload).delivery_id);
    },
  };
}

export async function startWorker(context: HubContext, databaseUrl: string, options: { pollInterval?: number } = {}): Promise<Runner> {
  // A run left "running" by a worker that died before this start is reaped at once, not a minute later.
  await reapStaleRuns(context.sql, context.config.HUB_RUN_STALE_SECONDS);
  await recoverDeliveries(context);
  const webhooks = await run({
    connectionString: databaseUrl,
    concurrency: context.config.HUB_WEBHOOK_CONCURRENCY,
    maxPoolSize: context.config.HUB_WEBHOOK_CONCURRENCY + 2,
    taskList: webhookTaskList(context),
    noHandleSignals: true,
    // New jobs come by LISTEN/NOTIFY; polling finds retries as they fall due (the first is 5 s after a failure).
    pollInterval: options.pollInterval ?? 500,
    logger: workerLogger(context.log),
  });
  const runner = await run({
    connectionString: databaseUrl,
    concurrency: context.config.HUB_WORKER_CONCURRENCY,
    taskList: taskList(context),
    crontab: `* * * * * ${TICK_TASK}`,
    noHandleSignals: true,
    pollInterval: options.pollInterval ?? 2000,
    logger: workerLogger(context.log),
  });
  // One handle for both pools, so callers stop (or await) the worker as a whole.
  return {
    ...runner,
    stop: async (reason) => void (await Promise.all([runner.stop(reason), webhooks.stop(reason)])),
    kill: async (reason) => void (await Promise.all([runner.kill(reason), webhooks.kill(reason)])),
    promise: Promise.all([runner.promise, webhooks.promise]).then(() => undefined),
  };
}
