import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub } from './helpers/hub.js';

// The csv connector through the real path: API → job → database, read back through the API and SQL.

let hub: TestHub;
beforeAll(async () => {
  hub = await createTestHub();
});
afterAll(async () => {
  await hub?.close();
});

function csv(rows: string[][], delimiter = ','): string {
  return rows.map((row) => row.map((cell) => (/[",\n;]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell)).join(delimiter)).join('\n') + '\n';
}

const header = ['ID', 'Name', 'Email', 'Phone', 'Amount', 'Status'];
const client = (n: number, overrides: Partial<Record<string, string>> = {}) => {
  const row = { ID: `C${n}`, Name: `Client ${n}`, Email: `client${n}@example.com`, Phone: `+1 555 010 ${String(n).padStart(4, '0')}`, Amount: `${n * 10}.50`, Status: 'done', ...overrides };
  return header.map((column) => row[column as keyof typeof row]!);
};

async function setup(config: Record<string, unknown> = {}) {
  const { key, workspaceId } = await hub.workspace();
  const response = await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Clients', config } });
  expect(response.status).toBe(201);
  const connection = await response.json();
  return { key, workspaceId, connectionId: connection.id as string };
}

async function uploadAndSync(key: string, connectionId: string, content: string | Buffer, options: { confirmDeletes?: boolean } = {}) {
  const upload = await hub.request('POST', `/v1/connections/${connectionId}/files?filename=clients.csv`, { key, body: content, headers: { 'content-type': 'text/csv' } });
  expect(upload.status).toBe(201);
  const { file } = await upload.json();
  const started = await hub.request('POST', `/v1/connections/${connectionId}/syncs`, { key, json: { file_id: file.id, ...(options.confirmDeletes ? { confirm_deletes: true } : {}) } });
  expect(started.status).toBe(202);
  const run = await started.json();
  return hub.waitForRun(key, run.id);
}

const livePeople = (connectionId: string) =>
  hub.sql<{ external_id: string; name: string; emails: string[]; phones: string[] }[]>`
    select external_id, name, emails, phones from canonical.source_people where connection_id = ${connectionId} and deleted_at is null order by external_id`;

describe('csv sync', () => {
  it('writes valid rows as people and jobs, and quarantines bad rows with their line numbers', async () => {
    const { key, connectionId } = await setup({ default_currency: 'EUR' });
    const rows = [header, client(1), client(2, { Email: 'not-an-email' }), client(3), client(4, { Amount: 'twelve' }), client(5)];
    const run = await uploadAndSync(key, connectionId, csv(rows));

    expect(run.status).toBe('succeeded');
    expect(run.streams.rows).toMatchObject({ read: 5, inserted: 3, quarantined: 2, updated: 0, deleted: 0 });
    expect(run.notes.map((note: { code: string }) => note.code)).toContain('mapping_suggested');

    const quarantine = await (await hub.request('GET', `/v1/quarantine?connection_id=${connectionId}`, { key })).json();
    expect(quarantine.data.map((entry: { line: number; reason: string }) => [entry.line, entry.reason])).toEqual([
      [3, 'Column "Email": "not-an-email" is not an email address.'],
      [5, 'Column "Amount": "twelve" is not an amount.'],
    ]);

    expect((await livePeople(connectionId)).map((person) => person.external_id)).toEqual(['C1', 'C3', 'C5']);
    const [deal] = await hub.sql`select amount::int as amount, currency, status, customer_ref from canonical.deals where connection_id = ${connectionId} and external_id = 'C3'`;
    expect(deal).toEqual({ amount: 3050, currency: 'EUR', status: 'completed', customer_ref: 'C3' });
  });

  it('writes nothing new when the same file is synced again', async () => {
    const { key, connectionId } = await setup();
    const content = csv([header, client(1), client(2), client(3)]);
    await uploadAndSync(key, connectionId, content);
    const [before] = await hub.sql`select max(updated_at) as at from canonical.source_people where connection_id = ${connectionId}`;

    const again = await uploadAndSync(key, connectionId, content);
    expect(again.streams.rows).toMatchObject({ read: 3, inserted: 0, updated: 0, unchanged: 3 });
    const [after] = await hub.sql`select max(updated_at) as at from canonical.source_people where connection_id = ${connectionId}`;
    expect(after.at).toEqual(before.at);
  });

  it('updates exactly the record whose row changed', async () => {
    const { key, connectionId } = await setup();
    await uploadAndSync(key, connectionId, csv([header, client(1), client(2), client(3)]));
    const run = await uploadAndSync(key, connectionId, csv([header, client(1), client(2, { Name: 'Client Two Renamed' }), client(3)]));

    expect(run.streams.rows).toMatchObject({ inserted: 0, updated: 1, unchanged: 2 });
    const people = await livePeople(connectionId);
    expect(people.find((person) => person.external_id === 'C2')?.name).toBe('Client Two Renamed');
  });

  it('turns a removed row into a tombstone, never a hard delete', async () => {
    const { key, connectionId } = await setup();
    const all = Array.from({ length: 10 }, (_, i) => client(i + 1));
    await uploadAndSync(key, connectionId, csv([header, ...all]));
    const run = await uploadAndSync(key, connectionId, csv([header, ...all.filter((row) => row[0] !== 'C7')]));

    expect(run.streams.rows.deleted).toBe(1);
    const [record] = await hub.sql`select deleted_at is not null as deleted, deleted_in_source from hub.source_records where connection_id = ${connectionId} and external_id = 'C7'`;
    expect(record).toEqual({ deleted: true, deleted_in_source: true });
    const [person] = await hub.sql`select deleted_at is not null as deleted from canonical.source_people where connection_id = ${connectionId} and external_id = 'C7'`;
    expect(person.deleted).toBe(true);
    expect((await livePeople(connectionId))).toHaveLength(9);
  });

  it('deletes nothing when more than 20% of the stream vanished, until the owner confirms', async () => {
    const { key, connectionId } = await setup();
    const all = Array.from({ length: 10 }, (_, i) => client(i + 1));
    await uploadAndSync(key, connectionId, csv([header, ...all]));
    const truncated = csv([header, ...all.slice(0, 7)]); // 3 of 10 gone: 30%

    const guarded = await uploadAndSync(key, connectionId, truncated);
    expect(guarded.status).toBe('succeeded');
    expect(guarded.streams.rows.deleted).toBe(0);
    expect(guarded.notes.find((note: { code: string }) => note.code === 'deletes_skipped')?.details).toMatchObject({ missing: 3, live: 10 });
    expect(await livePeople(connectionId)).toHaveLength(10);

    const confirmed = await uploadAndSync(key, connectionId, truncated, { confirmDeletes: true });
    expect(confirmed.streams.rows.deleted).toBe(3);
    expect(await livePeople(connectionId)).toHaveLength(7);
  });

  it('brings a tombstoned record back when its row reappears', async () => {
    const { key, connectionId } = await setup();
    const all = Array.from({ length: 10 }, (_, i) => client(i + 1));
    await uploadAndSync(key, connectionId, csv([header, ...all]));
    await uploadAndSync(key, connectionId, csv([header, ...all.slice(1)]));
    const run = await uploadAndSync(key, connectionId, csv([header, ...all]));
    expect(run.streams.rows).toMatchObject({ inserted: 0, updated: 1, deleted: 0 });
    expect(await livePeople(connectionId)).toHaveLength(10);
  });

  it('reads a Windows-1251 file with semicolons and Russian headers with no setup', async () => {
    const { key, connectionId } = await setup({ default_currency: 'RUB' });
    const content = iconv.encode(csv([['Имя', 'Телефон', 'Email', 'Сумма'], ['Иван Петров', '+7 916 123-45-67', 'ivan@example.ru', '1 200,50']], ';'), 'win1251');
    const run = await uploadAndSync(key, connectionId, content);

    expect(run.status).toBe('succeeded');
    expect(run.notes.find((note: { code: string }) => note.code === 'file_layout')?.details).toMatchObject({ encoding: 'windows-1251', delimiter: ';' });
    expect(await livePeople(connectionId)).toEqual([{ external_id: 'ivan@example.ru', name: 'Иван Петров', emails: ['ivan@example.ru'], phones: ['+7 916 123-45-67'] }]);
    const [deal] = await hub.sql`select amount::int as amount, currency from canonical.deals where connection_id = ${connectionId}`;
    expect(deal).toEqual({ amount: 120050, currency: 'RUB' });
  });

  it('reads UTF-8 with a BOM and applies a configured mapping and key column', async () => {
    const { key, connectionId } = await setup({ key_column: 'Код', columns: { 'Клиент': 'person.name', 'Почта': 'person.email' } });
    const content = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csv([['Код', 'Клиент', 'Почта'], ['17', 'Анна Смирнова', 'anna@example.ru']]))]);
    const run = await uploadAndSync(key, connectionId, content);

    expect(run.status).toBe('succeeded');
    expect(run.notes.map((note: { code: string }) => note.code)).not.toContain('mapping_suggested');
    expect(await livePeople(connectionId)).toEqual([{ external_id: '17', name: 'Анна Смирнова', emails: ['anna@example.ru'], phones: [] }]);
  });

  it('quarantines a second row with the same key instead of overwriting the first', async () => {
    const { key, connectionId } = await setup();
    const run = await uploadAndSync(key, connectionId, csv([header, client(1), client(1, { Name: 'Impostor' })]));
    expect(run.streams.rows).toMatchObject({ inserted: 1, quarantined: 1 });
    expect((await livePeople(connectionId))[0].name).toBe('Client 1');
  });

  it('fails the run with an actionable message when the mapping names a missing column', async () => {
    const { key, connectionId } = await setup({ key_column: 'Customer number' });
    const run = await uploadAndSync(key, connectionId, csv([header, client(1)]));
    expect(run.status).toBe('failed');
    expect(run.error.message).toContain('key_column "Customer number" is not a column of the file');
  });
});
