import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitEvent } from '../src/core/events/index.js';
import { isPublicAddress, useWebhookResolver, type ResolvedAddress } from '../src/core/webhooks/index.js';
import { checkUrlShape } from '../src/core/webhooks/address-guard.js';
import { createTestHub, type TestHub } from './helpers/hub.js';
import { startReceiver, type Receiver } from './helpers/webhook-receiver.js';

// The SSRF guard as deployed (HUB_ALLOW_PRIVATE_WEBHOOKS unset). A real receiver listens on
// 127.0.0.1: whatever the URL says, it must never be reached. http is allowed here only so the
// addresses themselves are what gets refused. Host names resolve through a stub resolver.

let hub: TestHub;
let receiver: Receiver;
const names: Record<string, ResolvedAddress[]> = {};

beforeAll(async () => {
  receiver = await startReceiver();
  hub = await createTestHub({ env: { HUB_ALLOW_HTTP_WEBHOOKS: 'true', HUB_WEBHOOK_RETRY_SCALE: '0.00001' } });
  useWebhookResolver(hub.context, async (hostname) => {
    const addresses = names[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses;
  });
});
afterAll(async () => {
  await hub?.close();
  await receiver?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function firstAttempt(key: string, eventId: string) {
  for (let i = 0; i < 200; i++) {
    const deliveries = (await (await hub.request('GET', `/v1/events/${eventId}/deliveries`, { key })).json()).data;
    if (deliveries[0]?.attempts.length > 0) return deliveries[0].attempts[0];
    await sleep(25);
  }
  throw new Error('no attempt was recorded');
}

describe('endpoint URLs', () => {
  it.each([
    ['loopback', 'http://127.0.0.1:9/hook'],
    ['IPv6 loopback', 'http://[::1]:9/hook'],
    ['cloud metadata (link-local)', 'http://169.254.169.254/latest/meta-data/'],
    ['private', 'https://10.0.0.1/hook'],
    ['CGNAT', 'https://100.64.0.1/hook'],
    ['IPv4-mapped IPv6', 'https://[::ffff:127.0.0.1]/hook'],
    ['IPv6 unique local', 'https://[fd00::1]/hook'],
    ['localhost', 'http://localhost:9/hook'],
    ['"this network" 0.0.0.0', 'http://0.0.0.0:9/hook'],
  ])('refuses a %s address when the endpoint is created (400)', async (_kind, url) => {
    const { key } = await hub.workspace();
    const response = await hub.request('POST', '/v1/webhook-endpoints', { key, json: { url } });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toMatch(/public address/);
  });

  it('accepts only https unless the deployment allows http', () => {
    expect(() => checkUrlShape('http://hooks.example.com/in', { allowHttp: false, allowPrivate: false })).toThrow(/must use https/);
    expect(() => checkUrlShape('ftp://hooks.example.com/in', { allowHttp: true, allowPrivate: false })).toThrow(/http or https/);
    expect(() => checkUrlShape('https://user:pw@hooks.example.com/in', { allowHttp: false, allowPrivate: false })).toThrow(/user name or password/);
    expect(checkUrlShape('https://hooks.example.com/in', { allowHttp: false, allowPrivate: false }).href).toBe('https://hooks.example.com/in');
  });
});

describe('at delivery time', () => {
  async function deliverTo(url: string) {
    const { key, workspaceId } = await hub.workspace();
    const created = await hub.request('POST', '/v1/webhook-endpoints', { key, json: { url } });
    expect(created.status).toBe(201);
    const eventId = await hub.sql.begin((tx) => emitEvent(tx, { workspaceId, type: 'customer.updated', data: { id: 'c1' } }));
    return { key, attempt: await firstAttempt(key, eventId) };
  }

  it('refuses a host name that resolves to 10.0.0.1, and sends nothing', async () => {
    names['internal.hooks.test'] = [{ address: '10.0.0.1', family: 4 }];
    const { attempt } = await deliverTo('https://internal.hooks.test/in');
    expect(attempt).toMatchObject({ outcome: 'refused', status_code: null, error: expect.stringContaining('10.0.0.1') });
  });

  it('refuses a host name that resolves to the loopback address where a receiver really listens', async () => {
    names['sneaky.hooks.test'] = [{ address: '127.0.0.1', family: 4 }];
    const { attempt } = await deliverTo(`http://sneaky.hooks.test:${receiver.port}/in`);
    expect(attempt.outcome).toBe('refused');
    await sleep(200);
    expect(receiver.received).toEqual([]);
  });

  it('refuses a host name when any one of its addresses is not public', async () => {
    names['mixed.hooks.test'] = [{ address: '93.184.215.14', family: 4 }, { address: 'fd12:3456::1', family: 6 }];
    const { attempt } = await deliverTo('https://mixed.hooks.test/in');
    expect(attempt).toMatchObject({ outcome: 'refused', error: expect.stringContaining('fd12:3456::1') });
  });

  it('refuses a host name that resolves to an IPv4-mapped loopback address', async () => {
    names['mapped.hooks.test'] = [{ address: '::ffff:127.0.0.1', family: 6 }];
    const { attempt } = await deliverTo(`http://mapped.hooks.test:${receiver.port}/in`);
    expect(attempt.outcome).toBe('refused');
    expect(receiver.received).toEqual([]);
  });

  it.each([
    ['127.0.0.1', () => receiver.url('/stored')],
    ['[::1]', () => `http://[::1]:${receiver.port}/stored`],
    ['169.254.169.254', () => 'http://169.254.169.254/latest/meta-data/'],
  ])('refuses %s stored while private addresses were allowed, once the guard is on', async (_address, url) => {
    const { workspaceId } = await hub.workspace();
    // As if created by a deployment that allowed private addresses: the guard at delivery is what counts.
    await hub.sql`insert into hub.webhook_endpoints (workspace_id, url, secret_encrypted)
                  values (${workspaceId}, ${url()}, ${(await import('../src/core/secrets.js')).encryptSecret(hub.context.masterKey, 'whsec_c2VjcmV0')})`;
    const eventId = await emitEvent(hub.sql, { workspaceId, type: 'customer.updated', data: {} });
    const [{ outcome }] = await waitForAttemptRow(eventId);
    expect(outcome).toBe('refused');
    expect(receiver.received).toEqual([]);
  });

  async function waitForAttemptRow(eventId: string) {
    for (let i = 0; i < 200; i++) {
      const rows = await hub.sql<{ outcome: string }[]>`
        select a.outcome from hub.webhook_attempts a join hub.webhook_deliveries d on d.id = a.delivery_id where d.event_id = ${eventId} order by a.id`;
      if (rows.length > 0) return rows;
      await sleep(25);
    }
    throw new Error('no attempt was recorded');
  }
});

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1', '127.255.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '100.127.255.254',
    '0.0.0.0', '224.0.0.1', '239.255.255.250', '255.255.255.255', '::', '::1', 'fe80::1', 'fc00::1', 'fd00:ec2::254', 'ff02::1',
    '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:8.8.8.8', '64:ff9b::a00:1', '2002:a00:1::1', 'not an address',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.215.14', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e'])('allows %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});
