CREATE TABLE "hub"."customer_firsts" (
	"workspace_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"first_paid_at" timestamp with time zone NOT NULL,
	CONSTRAINT "customer_firsts_workspace_id_customer_id_pk" PRIMARY KEY("workspace_id","customer_id")
);
--> statement-breakpoint
INSERT INTO "hub"."customer_firsts" (workspace_id, customer_id, first_paid_at)
SELECT r.workspace_id, r.customer_id, min(f.paid_at)
FROM canonical.payments f JOIN hub.customer_refs r ON r.workspace_id = f.workspace_id AND r.connection_id = f.connection_id AND r.external_id = f.customer_ref
WHERE f.deleted_at IS NULL AND f.paid_at IS NOT NULL AND coalesce(f.amount, 0) - coalesce(f.refunded_amount, 0) > 0
GROUP BY r.workspace_id, r.customer_id;
--> statement-breakpoint
-- The time indexes the rollup families read carry the columns they read (same names as in the
-- drizzle schema, which cannot say INCLUDE): a month of payments is an index-only range scan
-- instead of one random heap page per fact.
DROP INDEX canonical.payments_paid_at_idx;
--> statement-breakpoint
CREATE INDEX payments_paid_at_idx ON canonical.payments (workspace_id, paid_at) INCLUDE (connection_id, customer_ref, currency, amount, refunded_amount, deleted_at);
--> statement-breakpoint
DROP INDEX canonical.payments_customer_idx;
--> statement-breakpoint
CREATE INDEX payments_customer_idx ON canonical.payments (workspace_id, connection_id, customer_ref, paid_at) INCLUDE (amount, refunded_amount, deleted_at);
--> statement-breakpoint
DROP INDEX canonical.invoices_paid_at_idx;
--> statement-breakpoint
CREATE INDEX invoices_paid_at_idx ON canonical.invoices (workspace_id, paid_at) INCLUDE (connection_id, customer_ref, currency, amount_paid, issued_at, status, deleted_at);
--> statement-breakpoint
DROP INDEX canonical.invoices_due_at_idx;
--> statement-breakpoint
CREATE INDEX invoices_due_at_idx ON canonical.invoices (workspace_id, due_at) INCLUDE (connection_id, customer_ref, currency, amount_due, amount_paid, paid_at, status, deleted_at);
--> statement-breakpoint
DROP INDEX canonical.messages_sent_at_idx;
--> statement-breakpoint
CREATE INDEX messages_sent_at_idx ON canonical.messages (workspace_id, sent_at) INCLUDE (connection_id, thread_ref, direction, deleted_at);
--> statement-breakpoint
DROP INDEX canonical.messages_thread_idx;
--> statement-breakpoint
CREATE INDEX messages_thread_idx ON canonical.messages (workspace_id, connection_id, thread_ref) INCLUDE (direction, sent_at, deleted_at);
--> statement-breakpoint
-- Marks per family, not per table: an invoice paid marks its paid_at for `invoices` and its
-- due_at for `invoices_due`, not its issue date for both (TG_ARGV: column=family pairs).
-- Facts that name a customer also mark the references, one mark per statement holding them
-- all (a JSON array of connection|customer_ref; `payers` for payments, `refs` for the others):
-- the drain recomputes per-customer rows of those customers only, and first payments and
-- active periods of the payers only; a statement of more than 20,000 rows marks every
-- customer (ref null).
CREATE OR REPLACE FUNCTION hub.rollups_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  pairs text;
  rows_table text;
BEGIN
  SELECT string_agg(format('(%L, r.%I)', split_part(pair, '=', 2), split_part(pair, '=', 1)), ',') INTO pairs FROM unnest(TG_ARGV) pair;
  FOREACH rows_table IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY['new_rows'] WHEN 'DELETE' THEN ARRAY['old_rows'] ELSE ARRAY['old_rows', 'new_rows'] END LOOP
    IF TG_TABLE_NAME = 'messages' THEN
      -- A reply changes the response time of the thread's first inbound message, wherever it is: mark the thread.
      EXECUTE format('INSERT INTO hub.rollup_dirty (workspace_id, family, at, ref) SELECT DISTINCT r.workspace_id, ''messages'', date_bin(''15 minutes'', r.sent_at, timestamptz ''2000-01-01 00:00:00+00''), r.connection_id::text || ''|'' || r.thread_ref FROM %I r WHERE r.sent_at IS NOT NULL OR r.thread_ref IS NOT NULL', rows_table);
    ELSE
      EXECUTE format('INSERT INTO hub.rollup_dirty (workspace_id, family, at) SELECT DISTINCT r.workspace_id, t.family, date_bin(''15 minutes'', t.at, timestamptz ''2000-01-01 00:00:00+00'') FROM %I r CROSS JOIN LATERAL (VALUES %s) t(family, at) WHERE t.at IS NOT NULL', rows_table, pairs);
    END IF;
    IF TG_TABLE_NAME IN ('payments', 'invoices', 'deals', 'tasks', 'satisfaction_responses') THEN
      EXECUTE format('INSERT INTO hub.rollup_dirty (workspace_id, family, ref) SELECT r.workspace_id, %L, CASE WHEN count(*) > 20000 THEN NULL ELSE jsonb_agg(DISTINCT r.connection_id::text || ''|'' || r.customer_ref)::text END FROM %I r WHERE r.customer_ref IS NOT NULL GROUP BY r.workspace_id', CASE TG_TABLE_NAME WHEN 'payments' THEN 'payers' ELSE 'refs' END, rows_table);
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
--> statement-breakpoint
DO $$
DECLARE
  spec text[];
  op text;
BEGIN
  FOREACH spec SLICE 1 IN ARRAY ARRAY[
    ['payments', 'paid_at=payments'],
    ['invoices', 'paid_at=invoices,due_at=invoices_due'],
    ['deals', 'closed_at=deals_closed,created_at=deals_open'],
    ['tasks', 'due_at=tasks'],
    ['messages', 'sent_at=messages'],
    ['satisfaction_responses', 'answered_at=satisfaction'],
    ['costs', 'incurred_at=costs']
  ] LOOP
    FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
      EXECUTE format('DROP TRIGGER rollups_dirty_%s ON canonical.%I', op, spec[1]);
    END LOOP;
    EXECUTE format('CREATE TRIGGER rollups_dirty_insert AFTER INSERT ON canonical.%I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hub.rollups_dirty(%s)', spec[1], (SELECT string_agg(quote_literal(p), ', ') FROM unnest(string_to_array(spec[2], ',')) p));
    EXECUTE format('CREATE TRIGGER rollups_dirty_update AFTER UPDATE ON canonical.%I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hub.rollups_dirty(%s)', spec[1], (SELECT string_agg(quote_literal(p), ', ') FROM unnest(string_to_array(spec[2], ',')) p));
    EXECUTE format('CREATE TRIGGER rollups_dirty_delete AFTER DELETE ON canonical.%I REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION hub.rollups_dirty(%s)', spec[1], (SELECT string_agg(quote_literal(p), ', ') FROM unnest(string_to_array(spec[2], ',')) p));
  END LOOP;
END $$;
--> statement-breakpoint
-- Marks taken under the old names (a table's every time column) cannot say which family they
-- were for: those workspaces rebuild their rollups on the next drain.
INSERT INTO hub.rollup_dirty (workspace_id, family) SELECT DISTINCT workspace_id, 'all' FROM hub.rollup_dirty WHERE family IN ('invoices', 'deals', 'tasks');
