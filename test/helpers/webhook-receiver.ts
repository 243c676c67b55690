import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

// A real HTTP receiver on 127.0.0.1 for webhook specs: every request is kept and checked with
// the official Standard Webhooks library against the secrets registered for its path.

export interface Received {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  host: string | undefined;
  body: string;
  payload: { type: string; timestamp: string; data: any };
  /** The registered secrets this request's signature verifies with (standardwebhooks). */
  verifiedWith: string[];
  status: number | 'hung';
  at: number;
}

export type Reply = { status: number; headers?: Record<string, string>; body?: string; delayMs?: number } | 'hang';
type Responder = (request: { n: number; id: string; payload: Received['payload'] }) => Reply;

export interface Receiver {
  port: number;
  url: (path: string) => string;
  received: Received[];
  /** Secrets to verify requests on a path with (several during a rotation). */
  verifyWith: (path: string, ...secrets: string[]) => void;
  /** How a path answers; the default is 200. */
  on: (path: string, responder: Responder) => void;
  on2xx: (path: string) => Received[];
  /** The most requests a path had open at once. */
  maxInFlight: (path: string) => number;
  waitFor: (what: string, probe: () => boolean, timeoutMs?: number) => Promise<void>;
  /** Hung requests, to release (answer) or drop. */
  hung: http.ServerResponse[];
  close: () => Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const secrets = new Map<string, string[]>();
  const responders = new Map<string, Responder>();
  const counts = new Map<string, number>();
  const hung: http.ServerResponse[] = [];
  const inFlight = new Map<string, { now: number; max: number }>();

  const server = http.createServer((request, response) => {
    const open = inFlight.get(request.url ?? '/') ?? { now: 0, max: 0 };
    inFlight.set(request.url ?? '/', open);
    open.max = Math.max(open.max, ++open.now);
    // In flight until the response is written ('finish'), or the connection drops ('close').
    // Counting until 'close' alone let the next request arrive first: the hub had its answer
    // and sent the next one while this socket's close was still queued (4 seen for a cap of 3).
    let done = false;
    const settle = () => {
      if (done) return;
      done = true;
      open.now--;
    };
    response.once('finish', settle);
    response.once('close', settle);
    const chunks: Buffer[] = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = request.url ?? '/';
      const headers = { 'webhook-id': String(request.headers['webhook-id']), 'webhook-timestamp': String(request.headers['webhook-timestamp']), 'webhook-signature': String(request.headers['webhook-signature']) };
      const verifiedWith = (secrets.get(path) ?? []).filter((secret) => {
        try {
          new Webhook(secret).verify(body, headers);
          return true;
        } catch {
          return false;
        }
      });
      let payload: Received['payload'];
      try {
        payload = JSON.parse(body);
      } catch {
        payload = { type: '', timestamp: '', data: body };
      }
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const responder: Responder = responders.get(path) ?? (() => ({ status: 200 }));
      const reply = responder({ n, id: headers['webhook-id'], payload });
      received.push({
        path, id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], signature: headers['webhook-signature'], host: request.headers.host,
        body, payload, verifiedWith, status: reply === 'hang' ? 'hung' : reply.status, at: Date.now(),
      });
      if (reply === 'hang') {
        hung.push(response);
        return;
      }
      setTimeout(() => {
        response.writeHead(reply.status, reply.headers);
        response.end(reply.body ?? '');
      }, reply.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    verifyWith: (path, ...list) => secrets.set(path, list),
    on: (path, responder) => responders.set(path, responder),
    on2xx: (path) => received.filter((entry) => entry.path === path && typeof entry.status === 'number' && entry.status >= 200 && entry.status < 300),
    maxInFlight: (path) => inFlight.get(path)?.max ?? 0,
    waitFor: async (what, probe, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!probe()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${JSON.stringify(received.map((entry) => [entry.path, entry.payload.type, entry.status]))}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    hung,
    close: async () => {
      for (const response of hung) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
