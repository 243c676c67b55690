import { Logger as WorkerLogger } from 'graphile-worker';
import type { Logger } from '../log.js';

/** Sends graphile-worker's own log lines through our pino logger. */
export function workerLogger(log: Logger): WorkerLogger {
  const child = log.child({ component: 'worker' });
  return new WorkerLogger(() => (level, message, meta) => {
    const method = level === 'error' ? 'error' : level === 'warning' ? 'warn' : level === 'info' ? 'info' : 'debug';
    child[method]({ ...(meta ?? {}) }, message);
  });
}
