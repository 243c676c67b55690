import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileFull } from '../src/core/reconcile/index.js';
import { createTestHub, type TestHub } from './helpers/hub.js';

// Reconciliation through the real path: csv uploads → sync job → derive job → golden
// customers, read and changed through the API.

let hub: TestHub;
beforeAll(async () => {
  hub = await createTestHub();
});
afterAll(async () => {
  await hub?.close();
});

function csv(rows: string[][]): string {
  return rows.map((row) => row.map((cell) => (/[",\n;]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell)).join(',')).join('\n') + '\n';
}

async function connect(key: string, name: string, config: Record<string, unknown> = {}) {
  const response = await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name, config } });
  expect(response.status).toBe(201);
  return (await response.json()).id as string;
}

/** Uploads, syncs, and waits until the golden records have caught up with what the sync wrote. */
async function load(key: string, workspaceId: string, connectionId: string, rows: string[][]) {
  const upload = await hub.request('POST', `/v1/connections/${connectionId}/files?filename=data.csv&sync=true`, { key, body: csv(rows), headers: { 'content-type': 'text/csv' } });
  expect(upload.status).toBe(201);
  const { sync_run } = await upload.json();
  const run = await hub.waitForRun(key, sync_run.id);
  expect(run.status).toBe('succeeded');
  await settled(workspaceId);
}

async function settled(workspaceId: string) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const [{ pending }] = await hub.sql<{ pending: number }[]>`select count(*)::int as pending from hub.fact_changes where workspace_id = ${workspaceId}`;
    if (pending === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('golden records did not catch up within 30 s');
}

async function get(key: string, path: string) {
  const response = await hub.request('GET', path, { key });
  expect(response.status).toBe(200);
  return response.json();
}

async function customers(key: string, q?: string) {
  return (await get(key, `/v1/customers?limit=200${q ? `&q=${encodeURIComponent(q)}` : ''}`)).data as any[];
}

const clusters = async (workspaceId: string) =>
  hub.sql<{ customer_id: string; members: string[] }[]>`
    select customer_id, array_agg(source_record_id::text order by source_record_id) as members
    from canonical.customer_links where workspace_id = ${workspaceId} group by customer_id order by customer_id`;

describe('one client across a spreadsheet, Stripe and mail', () => {
  it('merges Иван Петров, Ivan Petrov and ivan.petrov@gmail.com, explaining it by phone and transliterated name', async () => {
    const { key, workspaceId } = await hub.workspace();
    const sheet = await connect(key, 'Sheet');
    const stripe = await connect(key, 'Stripe export');
    const mail = await connect(key, 'Mail contacts');
    await load(key, workspaceId, sheet, [['ID', 'Имя', 'Телефон'], ['1', 'Иван Петров', '+7 916 123-45-67'], ['2', 'Анна Смирнова', '+7 903 000-11-22']]);
    await load(key, workspaceId, stripe, [['ID', 'Name', 'Phone', 'Email'], ['cus_1', 'Ivan Petrov', '89161234567', 'ivan.petrov@gmail.com']]);
    await load(key, workspaceId, mail, [['ID', 'Email'], ['m1', 'Ivan.Petrov+shop@googlemail.com']]);

    const found = await customers(key, 'Петров');
    expect(found).toHaveLength(1);
    expect(found[0].record_count).toBe(3);
    expect(found[0].phones).toEqual(['+79161234567']);
    // The Latin spelling and the phone in another format find the same customer.
    expect((await customers(key, 'Petrov')).map((c) => c.id)).toEqual([found[0].id]);
    expect((await customers(key, '8 (916) 123 45 67')).map((c) => c.id)).toEqual([found[0].id]);
    expect((await customers(key, 'anna'))[0].id).not.toBe(found[0].id);

    const detail = await get(key, `/v1/customers/${found[0].id}`);
    expect(detail.records.map((record: any) => record.connection_name).sort()).toEqual(['Mail contacts', 'Sheet', 'Stripe export']);
    const stripeLink = detail.records.find((record: any) => record.connection_name === 'Stripe export').link;
    const sheetLink = detail.records.find((record: any) => record.connection_name === 'Sheet').link;
    const evidence = [...(stripeLink.evidence ?? []), ...(sheetLink.evidence ?? [])];
    expect(evidence).toContainEqual(expect.objectContaining({ field: 'phone', level: 'exact' }));
    expect(evidence).toContainEqual(expect.objectContaining({ field: 'last_name', note: 'transliterated' }));
    // Each golden field says where it came from and by which rule.
    expect(detail.sources.phones).toMatchObject({ rule: 'union' });
    expect(detail.sources.name.rule).toBe('most_recent');

    const [{ count }] = await hub.sql<{ count: number }[]>`select count(*)::int from hub.events where workspace_id = ${workspaceId} and type like 'customer.%'`;
    expect(count).toBeGreaterThan(0);
  });

  it('reconciles a row that states both a person and their company as a customer linked to an organization', async () => {
    const { key, workspaceId } = await hub.workspace();
    const sheet = await connect(key, 'Clients');
    const crm = await connect(key, 'CRM');
    await load(key, workspaceId, sheet, [['ID', 'Имя', 'Телефон', 'Компания'], ['1', 'Ольга Морозова', '+7 903 555-12-34', 'ООО «Ромашка»']]);
    await load(key, workspaceId, crm, [['ID', 'Name', 'Phone', 'Company'], ['c1', 'Olga Morozova', '89035551234', 'Romashka LLC']]);
    const found = await customers(key, 'Морозова');
    expect(found).toHaveLength(1);
    expect(found[0].record_count).toBe(2);
    const organizations = (await get(key, '/v1/organizations?limit=10')).data as any[];
    expect(organizations.length).toBeGreaterThanOrEqual(1);
    const detail = await get(key, `/v1/customers/${found[0].id}`);
    expect(organizations.map((organization) => organization.id)).toContain(detail.organization_id);
  });

  it('keeps two namesakes with different phones and emails apart, and puts them in the review queue', async () => {
    const { key, workspaceId } = await hub.workspace();
    const sheet = await connect(key, 'Sheet');
    await load(key, workspaceId, sheet, [
      ['ID', 'Name', 'Phone', 'Email'],
      ['1', 'Ivan Petrov', '+7 916 111-11-11', 'ivan.petrov@gmail.com'],
      ['2', 'Иван Петров', '+7 926 222-22-22', 'petrov.i@yandex.ru'],
    ]);
    expect(await customers(key)).toHaveLength(2);
    const queue = (await get(key, '/v1/match-candidates')).data;
    expect(queue).toHaveLength(1);
    expect(queue[0].reason).toBe('review_band');
    expect(queue[0].evidence).toContainEqual(expect.objectContaining({ field: 'phone', level: 'different' }));
  });

  it('never merges two Stripe customers on its own, even when they look the same: the pair goes to review', async () => {
    const { key, workspaceId } = await hub.workspace();
    const stripe = await connect(key, 'Stripe customers', { distinct_records: true });
    await load(key, workspaceId, stripe, [
      ['ID', 'Name', 'Email'],
      ['cus_A', 'Olga Ivanova', 'olga@example.com'],
      ['cus_B', 'Olga Ivanova', 'olga@example.com'],
    ]);
    expect(await customers(key)).toHaveLength(2);
    const queue = (await get(key, '/v1/match-candidates')).data;
    expect(queue.map((pair: any) => pair.reason)).toEqual(['limit']);
  });
});

describe('admin overrides', () => {
  async function twoCustomers() {
    const { key, readKey, workspaceId } = await hub.workspace();
    const sheet = await connect(key, 'Sheet');
    await load(key, workspaceId, sheet, [
      ['ID', 'Name', 'Email'],
      ['1', 'Maria Lopez', 'maria@lopez.example'],
      ['2', 'M. Lopez-Garcia', 'mlg@work.example'],
    ]);
    const [first, second] = (await customers(key)).sort((x, y) => x.name.localeCompare(y.name));
    return { key, readKey, workspaceId, first, second };
  }

  it('merge → split → merge round-trips with stable ids, and the absorbed id resolves to the survivor', async () => {
    const { key, readKey, workspaceId, first, second } = await twoCustomers();
    expect(await hub.request('POST', '/v1/customers/merge', { key: readKey, json: { ids: [first.id, second.id] } })).toHaveProperty('status', 403);

    const merged = await hub.request('POST', '/v1/customers/merge', { key, json: { ids: [first.id, second.id] } });
    expect(merged.status).toBe(200);
    const survivor = await merged.json();
    expect(survivor.record_count).toBe(2);
    expect(survivor.records.map((record: any) => record.link.rule).sort()).toEqual(['admin', 'anchor']);
    const absorbed = [first.id, second.id].find((id) => id !== survivor.id)!;
    expect([first.id, second.id]).toContain(survivor.id);

    const alias = await hub.request('GET', `/v1/customers/${absorbed}`, { key });
    expect(alias.status).toBe(200);
    expect(alias.headers.get('content-location')).toBe(`/v1/customers/${survivor.id}`);
    expect(await alias.json()).toMatchObject({ id: survivor.id, resolved_from: absorbed });

    const absorbedRecord = survivor.records.find((record: any) => record.link.rule === 'admin').source_record_id;
    const split = await hub.request('POST', `/v1/customers/${survivor.id}/split`, { key, json: { source_record_ids: [absorbedRecord] } });
    expect(split.status).toBe(200);
    const parts = (await split.json()).data;
    expect(parts.map((part: any) => part.id).sort()).toEqual([first.id, second.id].sort());

    const again = await (await hub.request('POST', '/v1/customers/merge', { key, json: { ids: [absorbed, survivor.id] } })).json();
    expect(again.id).toBe(survivor.id);
    const types = (await hub.sql<{ type: string }[]>`select type from hub.events where workspace_id = ${workspaceId} and type like 'customer.%' order by created_at, id`).map((row) => row.type);
    expect(types.filter((type) => type === 'customer.merged')).toHaveLength(2);
    expect(types).toContain('customer.split');
  });

  it('keeps a never-merge through a full re-run, and golden ids survive deleting every golden record', async () => {
    const { key, workspaceId } = await hub.workspace();
    const sheet = await connect(key, 'Sheet');
    await load(key, workspaceId, sheet, [
      ['ID', 'Name', 'Phone'],
      ['1', 'Sergey Orlov', '+7 916 555-00-01'],
      ['2', 'Сергей Орлов', '8 916 555 00 01'],
    ]);
    const [together] = await customers(key);
    expect(together.record_count).toBe(2);
    const detail = await get(key, `/v1/customers/${together.id}`);
    const other = detail.records.find((record: any) => record.link.rule !== 'anchor').source_record_id;
    const split = await (await hub.request('POST', `/v1/customers/${together.id}/split`, { key, json: { source_record_ids: [other] } })).json();
    const ids = split.data.map((part: any) => part.id);
    const never = await hub.request('POST', '/v1/customers/never-merge', { key, json: { ids } });
    expect(never.status).toBe(204);

    const before = await clusters(workspaceId);
    await hub.sql`delete from canonical.customer_links where workspace_id = ${workspaceId}`;
    await hub.sql`delete from canonical.customers where workspace_id = ${workspaceId}`;
    await reconcileFull(hub.sql, workspaceId, 'person');
    expect(await clusters(workspaceId)).toEqual(before);
    expect((await customers(key)).map((c) => c.id).sort()).toEqual([...ids].sort());
  });

  it('answers 400 for a split of records the customer does not hold, and 404 for another workspace', async () => {
    const { key, first, second } = await twoCustomers();
    const foreign = await hub.workspace();
    expect((await hub.request('GET', `/v1/customers/${first.id}`, { key: foreign.key })).status).toBe(404);
    const wrong = await hub.request('POST', `/v1/customers/${first.id}/split`, { key, json: { source_record_ids: ['999999999'] } });
    expect(wrong.status).toBe(400);
    const same = await hub.request('POST', '/v1/customers/merge', { key, json: { ids: [second.id, second.id] } });
    expect(same.status).toBe(400);
  });
});

describe('incremental equals full', () => {
  it('gives the same clusters and ids when records arrive in batches as a full run over all of them (random data)', async () => {
    const { key, workspaceId } = await hub.workspace();
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)];
    const firsts = ['Ivan', 'Anna', 'Sergey', 'Olga', 'Pavel', 'Elena', 'Dmitry', 'Maria'];
    const lasts = ['Petrov', 'Smirnova', 'Orlov', 'Volkova', 'Sokolov', 'Kuznetsova', 'Popov', 'Lebedeva'];
    const people = Array.from({ length: 40 }, (_, n) => ({ first: pick(firsts), last: pick(lasts), phone: `+7 9${String(10 + n).padStart(2, '0')} 000 ${String(1000 + n)}`, email: `p${n}@mail${n % 5}.example` }));
    const typo = (text: string) => (random() < 0.3 ? text.slice(0, -1) : text);
    const sources = await Promise.all(['A', 'B', 'C'].map((name) => connect(key, name)));
    for (const [index, connectionId] of sources.entries()) {
      const rows = [['ID', 'Name', 'Phone', 'Email']];
      for (const [n, person] of people.entries()) {
        if (random() < 0.4) continue;
        rows.push([`${index}-${n}`, `${typo(person.first)} ${person.last}`, random() < 0.7 ? person.phone : '', random() < 0.5 ? person.email : '']);
      }
      await load(key, workspaceId, connectionId, rows);
    }
    const queue = () => hub.sql`select record_a, record_b, reason, round(score::numeric, 6) as score from hub.match_candidates where workspace_id = ${workspaceId} and kind = 'person' order by 1, 2`;
    const incremental = await clusters(workspaceId);
    const incrementalQueue = await queue();
    expect(incremental.length).toBeGreaterThan(10);
    expect(incrementalQueue.length).toBeGreaterThan(3);
    await hub.sql`delete from canonical.customer_links where workspace_id = ${workspaceId}`;
    await hub.sql`delete from canonical.customers where workspace_id = ${workspaceId}`;
    await reconcileFull(hub.sql, workspaceId, 'person');
    expect(await clusters(workspaceId)).toEqual(incremental);
    // The review queue too: one entry per pair of clusters, whichever way the records came.
    expect(await queue()).toEqual(incrementalQueue);
  });
});

describe('oversized blocks', () => {
  it('uses a block again once it shrinks under the cap, at the next page that touches it, as a full run does', async () => {
    const { key, workspaceId } = await hub.workspace();
    const syllables = ['bar', 'dol', 'kin', 'mar', 'tus', 'vel', 'zor', 'pen'];
    const lasts = syllables.flatMap((x) => syllables.map((y) => `${x[0].toUpperCase()}${x.slice(1)}${y}`)).slice(0, 61);
    const crm = await connect(key, 'crm');
    const rowsOf = (count: number) => [['ID', 'Name', 'Phone'], ...lasts.slice(0, count).map((last, n) => [`z${n}`, `Zebulon ${last}`, `+1 415 555 ${1000 + n}`])];
    await load(key, workspaceId, crm, rowsOf(61));
    // A mailbox that knows only a first name: its one blocking key is "Zebulon" alone, a block of 62 records (over the cap of 60).
    const mail = await connect(key, 'mail', { key_column: 'ID', columns: { First: 'person.first_name', Email: 'person.email' } });
    await load(key, workspaceId, mail, [['ID', 'First', 'Email'], ['m1', 'Zebulon', '']]);
    // The review queue's pairs with the mailbox's record.
    const queue = () => hub.sql`
      select c.record_a, c.record_b, c.reason from hub.match_candidates c join hub.source_records r on r.id in (c.record_a, c.record_b)
      where c.workspace_id = ${workspaceId} and c.kind = 'person' and r.connection_id = ${mail} order by 1, 2`;
    expect(await queue()).toEqual([]);
    const cached = () => hub.sql`select key from hub.match_oversized_keys where workspace_id = ${workspaceId} and kind = 'person'`;
    expect((await cached()).length).toBeGreaterThan(0);

    // Five Zebulons leave the CRM: the block holds 57 records now. The mailbox's record changes next.
    await load(key, workspaceId, crm, rowsOf(56));
    await load(key, workspaceId, mail, [['ID', 'First', 'Email'], ['m1', 'Zebulon', 'zeb@example.org']]);
    const incremental = await queue();
    expect(incremental.length).toBeGreaterThan(0);

    await reconcileFull(hub.sql, workspaceId, 'person');
    expect(await queue()).toEqual(incremental);
  });
});

