import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { checkUrlShape, RefusedUrlError, vetDestination, type ResolvedAddress, type Resolver, type UrlPolicy } from './address-guard.js';
import { parseRetryAfter } from './schedule.js';

// One POST of one delivery: SSRF-checked, 15 s in all (HUB_WEBHOOK_TIMEOUT_SECONDS), redirects not followed, the start of the
// response kept for the attempt log.

const TIMEOUT_MS = 15_000;
export const SNIPPET_BYTES = 1024;
/** Read at most this much of a response (then drop the connection): a receiver cannot make us buffer more. */
const MAX_RESPONSE_BYTES = 64 * 1024;

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

export interface SendRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  policy: UrlPolicy;
  resolve: Resolver;
  timeoutMs?: number;
}

export type SendResult =
  | { outcome: 'succeeded' | 'failed'; statusCode: number; latencyMs: number; snippet: string; retryAfterMs: number | null; error: string | null }
  | { outcome: 'failed'; statusCode: null; latencyMs: number; snippet: null; retryAfterMs: null; error: string }
  | { outcome: 'refused'; statusCode: null; latencyMs: number; snippet: null; retryAfterMs: null; error: string };

export async function sendWebhook(request: SendRequest): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let url: URL;
  let destination: ResolvedAddress;
  try {
    url = checkUrlShape(request.url, request.policy);
    destination = await vetDestination(url, request.policy, request.resolve);
  } catch (error) {
    if (error instanceof RefusedUrlError) return { outcome: 'refused', statusCode: null, latencyMs: elapsed(), snippet: null, retryAfterMs: null, error: error.message };
    throw error;
  }
  try {
    const response = await post(url, destination, request);
    const success = response.statusCode >= 200 && response.statusCode < 300;
    const error = success ? null : response.statusCode >= 300 && response.statusCode < 400 ? `Redirect (${response.statusCode}) not followed: webhook URLs must answer 2xx themselves.` : `The endpoint answered ${response.statusCode}.`;
    return { outcome: success ? 'succeeded' : 'failed', statusCode: response.statusCode, latencyMs: elapsed(), snippet: response.snippet, retryAfterMs: parseRetryAfter(response.retryAfter), error };
  } catch (error) {
    return { outcome: 'failed', statusCode: null, latencyMs: elapsed(), snippet: null, retryAfterMs: null, error: describeNetworkError(error) };
  }
}

interface RawResponse {
  statusCode: number;
  snippet: string;
  retryAfter: string | undefined;
}

function post(url: URL, destination: ResolvedAddress, request: SendRequest): Promise<RawResponse> {
  const secure = url.protocol === 'https:';
  // Connect to the address that was vetted, whatever DNS says now; TLS still checks the hostname (SNI, certificate).
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (error: null, addresses: { address: string; family: number }[]) => void)(null, [destination]);
    else callback(null, destination.address, destination.family);
  };
  const timeoutMs = request.timeoutMs ?? TIMEOUT_MS;
  return new Promise<RawResponse>((resolve, reject) => {
    const outgoing = (secure ? https : http).request({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      agent: secure ? agents.https : agents.http,
      lookup,
      headers: { 'content-type': 'application/json', 'user-agent': 'hub-webhooks/1', 'content-length': Buffer.byteLength(request.body), ...request.headers },
    });
    const timer = setTimeout(() => outgoing.destroy(new TimeoutError(timeoutMs)), timeoutMs);
    outgoing.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    outgoing.once('response', (response) => {
      const chunks: Buffer[] = [];
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        if (received < SNIPPET_BYTES) chunks.push(chunk.subarray(0, SNIPPET_BYTES - received));
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) response.destroy();
      });
      const finish = () => {
        clearTimeout(timer);
        resolve({
          statusCode: response.statusCode ?? 0,
          snippet: Buffer.concat(chunks).toString('utf8'),
          retryAfter: response.headers['retry-after'],
        });
      };
      response.once('end', finish);
      response.once('close', finish); // destroyed after MAX_RESPONSE_BYTES: the status still counts
      response.once('error', () => {});
    });
    outgoing.end(request.body);
  });
}

class TimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`No answer within ${timeoutMs / 1000} s.`);
  }
}

function describeNetworkError(error: unknown): string {
  if (error instanceof TimeoutError) return error.message;
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  return code ? `Could not reach the endpoint (${code}): ${message}` : `Could not reach the endpoint: ${message}`;
}
