import { run, type Runner, type TaskList } from 'graphile-worker';
import type { HubContext } from '../core/context.js';
import { reapStaleRuns, requestScheduledSyncs, runSync, SYNC_TASK } from '../core/ingest/index.js';
import { workerLogger } from './logger.js';

// graphile-worker tasks: thin, typed, calling into src/core.

interface SyncPayload {
  sync_run_id: string;
}

export const TICK_TASK = 'tick';

export function taskList(context: HubContext): TaskList {
  return {
    [SYNC_TASK]: async (payload) => {
      await runSync(context, (payload as SyncPayload).sync_run_id);
    },
    // Every minute: fail runs whose worker died, start syncs that are due.
    [TICK_TASK]: async () => {
      const reaped = await reapStaleRuns(context.sql, context.config.HUB_RUN_STALE_SECONDS);
      if (reaped.length > 0) context.log.warn({ sync_run_ids: reaped }, 'reaped sync runs whose worker stopped');
      await requestScheduledSyncs(context);
    },
  };
}

export async function startWorker(context: HubContext, databaseUrl: string, options: { pollInterval?: number } = {}): Promise<Runner> {
  // A run left "running" by a worker that died before this start is reaped at once, not a minute later.
  await reapStaleRuns(context.sql, context.config.HUB_RUN_STALE_SECONDS);
  return run({
    connectionString: databaseUrl,
    concurrency: context.config.HUB_WORKER_CONCURRENCY,
    taskList: taskList(context),
    crontab: `* * * * * ${TICK_TASK}`,
    noHandleSignals: true,
    pollInterval: options.pollInterval ?? 2000,
    logger: workerLogger(context.log),
  });
}
