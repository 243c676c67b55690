import { z } from 'zod';
import path from 'node:path';

// Every setting the hub reads from the environment, in one place.
const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const configSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  HUB_DATA_DIR: z.string().min(1).default('.hub'),
  HUB_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(5488),
  HUB_MASTER_KEY: z
    .string()
    .refine((value) => Buffer.from(value, 'base64').length === 32, 'must be 32 bytes encoded in base64 (openssl rand -base64 32)')
    .optional(),
  HUB_HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HUB_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HUB_UPLOAD_MAX_BYTES: z.coerce.number().int().positive().default(512 * 1024 * 1024),
  HUB_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  HUB_RUN_STALE_SECONDS: z.coerce.number().int().min(1).default(120),
  HUB_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).default(10),
  HUB_DELETE_GUARD_SHARE: z.coerce.number().min(0).max(1).default(0.2),
  HUB_SYNC_BATCH_SIZE: z.coerce.number().int().min(1).max(50_000).default(2000),
  HUB_ALLOW_PRIVATE_WEBHOOKS: booleanFromEnv.default(false),
  HUB_ALLOW_HTTP_WEBHOOKS: booleanFromEnv.default(false),
  HUB_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  HUB_WEBHOOK_ENDPOINT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  HUB_WEBHOOK_RETRY_SCALE: z.coerce.number().min(0).max(1).default(1),
  HUB_WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(60).default(15),
});

export type HubConfig = z.infer<typeof configSchema> & { dataDir: string };

export class ConfigError extends Error {}

/** Reads the environment once; a bad value names the variable in one line. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const parsed = configSchema.safeParse(stripEmpty(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue.path.join('.');
    throw new ConfigError(`Invalid environment variable ${name}: ${issue.message} (got ${JSON.stringify(env[name])})`);
  }
  return { ...parsed.data, dataDir: path.resolve(parsed.data.HUB_DATA_DIR) };
}

function stripEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== '') out[key] = value;
  return out;
}
