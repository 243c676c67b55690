import { pino, type Logger } from 'pino';

// Paths that may carry secrets; pino replaces them before anything is written.
const redactPaths = [
  'credentials', '*.credentials', '*.*.credentials',
  'authorization', '*.authorization', '*.headers.authorization', 'headers.authorization',
  'password', '*.password', 'token', '*.token', 'secret', '*.secret', 'apiKey', '*.apiKey',
];

export function createLogger(level: string = process.env.HUB_LOG_LEVEL ?? 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, redact: { paths: redactPaths, censor: '[redacted]' }, base: undefined },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

export type { Logger };
