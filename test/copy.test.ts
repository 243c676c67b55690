import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyRows } from '../src/db/copy.js';
import { createTestHub, type TestHub } from './helpers/hub.js';

// COPY is how reconciliation and the benchmarks write in bulk: a row the server refuses
// must fail the call (and roll back its transaction), never hang or pass as written.
let hub: TestHub;
beforeAll(async () => {
  hub = await createTestHub({ worker: false });
  await hub.sql`create table copy_probe (n int not null, doc jsonb)`;
});
afterAll(() => hub.close());

describe('copyRows', () => {
  it('writes rows, JSON and arrays included', async () => {
    const count = await copyRows(hub.sql, 'copy_probe', ['n', 'doc'], [[1, { name: 'Иван\tПетров\n' }], [2, null]]);
    expect(count).toBe(2);
    const rows = await hub.sql`select n, doc from copy_probe order by n`;
    expect(rows.map((row) => ({ ...row }))).toEqual([{ n: 1, doc: { name: 'Иван\tПетров\n' } }, { n: 2, doc: null }]);
  });

  it('rejects with the server error in a transaction, which then rolls back', async () => {
    const attempt = hub.sql.begin(async (tx) => {
      await tx`insert into copy_probe (n) values (100)`;
      await copyRows(tx as never, 'copy_probe', ['n'], [[101], ['not a number']]);
    });
    await expect(attempt).rejects.toThrow(/invalid input syntax for type integer/);
    const [{ count }] = await hub.sql`select count(*)::int as count from copy_probe where n >= 100`;
    expect(count).toBe(0);
    // The pool is usable afterwards: no connection left idle in an aborted transaction.
    const [{ aborted }] = await hub.sql`select count(*)::int as aborted from pg_stat_activity where datname = current_database() and state = 'idle in transaction (aborted)'`;
    expect(aborted).toBe(0);
  });

  it('rejects outside a transaction too, after many chunks', async () => {
    const rows = (function* () {
      for (let n = 0; n < 60_000; n++) yield [n === 55_000 ? null : n + 1000];
    })();
    await expect(copyRows(hub.sql, 'copy_probe', ['n'], rows)).rejects.toThrow(/null value in column "n"/);
    const [{ count }] = await hub.sql`select count(*)::int as count from copy_probe where n >= 1000`;
    expect(count).toBe(0);
  });
});
