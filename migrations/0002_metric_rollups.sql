CREATE TABLE "canonical"."metric_rollups" (
	"workspace_id" uuid NOT NULL,
	"metric" text NOT NULL,
	"grain" text NOT NULL,
	"period_start" date NOT NULL,
	"dimension" text NOT NULL,
	"dimension_value" text NOT NULL,
	"currency" text NOT NULL,
	"value" double precision,
	"count" bigint NOT NULL,
	"inputs" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "metric_rollups_workspace_id_metric_grain_dimension_period_start_dimension_value_currency_pk" PRIMARY KEY("workspace_id","metric","grain","dimension","period_start","dimension_value","currency")
);
--> statement-breakpoint
CREATE TABLE "hub"."rollup_dirty" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "hub"."rollup_dirty_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"workspace_id" uuid NOT NULL,
	"family" text NOT NULL,
	"at" timestamp with time zone,
	"ref" text
);
--> statement-breakpoint
CREATE INDEX "rollup_dirty_workspace_idx" ON "hub"."rollup_dirty" USING btree ("workspace_id","id");--> statement-breakpoint
CREATE INDEX "costs_incurred_at_idx" ON "canonical"."costs" USING btree ("workspace_id","incurred_at");--> statement-breakpoint
CREATE INDEX "deals_created_at_idx" ON "canonical"."deals" USING btree ("workspace_id","created_at");--> statement-breakpoint
CREATE INDEX "deals_closed_at_idx" ON "canonical"."deals" USING btree ("workspace_id","closed_at");--> statement-breakpoint
CREATE INDEX "invoices_paid_at_idx" ON "canonical"."invoices" USING btree ("workspace_id","paid_at");--> statement-breakpoint
CREATE INDEX "invoices_due_at_idx" ON "canonical"."invoices" USING btree ("workspace_id","due_at");--> statement-breakpoint
CREATE INDEX "messages_sent_at_idx" ON "canonical"."messages" USING btree ("workspace_id","sent_at");--> statement-breakpoint
CREATE INDEX "messages_thread_idx" ON "canonical"."messages" USING btree ("workspace_id","connection_id","thread_ref");--> statement-breakpoint
CREATE INDEX "payments_paid_at_idx" ON "canonical"."payments" USING btree ("workspace_id","paid_at");--> statement-breakpoint
CREATE INDEX "payments_customer_idx" ON "canonical"."payments" USING btree ("workspace_id","connection_id","customer_ref");--> statement-breakpoint
CREATE INDEX "satisfaction_responses_answered_at_idx" ON "canonical"."satisfaction_responses" USING btree ("workspace_id","answered_at");--> statement-breakpoint
CREATE INDEX "tasks_due_at_idx" ON "canonical"."tasks" USING btree ("workspace_id","due_at");--> statement-breakpoint
-- Rollups follow the facts: every statement that writes a fact marks the times it touches
-- (old and new values, so a payment moved from January to February recomputes both) in
-- hub.rollup_dirty, in the same transaction. Times are kept to 15 minutes, the finest step
-- of any time zone's offset, so a local period boundary is never crossed by the rounding.
CREATE FUNCTION hub.rollups_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  family text := TG_ARGV[0];
  columns text[] := string_to_array(TG_ARGV[1], ',');
  rows_table text;
  times text;
BEGIN
  SELECT string_agg(format('(r.%I)', c), ',') INTO times FROM unnest(columns) c;
  FOREACH rows_table IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY['new_rows'] WHEN 'DELETE' THEN ARRAY['old_rows'] ELSE ARRAY['old_rows', 'new_rows'] END LOOP
    IF family = 'messages' THEN
      -- A reply changes the response time of the thread's first inbound message, wherever it is: mark the thread.
      EXECUTE format('INSERT INTO hub.rollup_dirty (workspace_id, family, at, ref) SELECT DISTINCT r.workspace_id, %L, date_bin(''15 minutes'', r.sent_at, timestamptz ''2000-01-01 00:00:00+00''), r.connection_id::text || ''|'' || r.thread_ref FROM %I r WHERE r.sent_at IS NOT NULL OR r.thread_ref IS NOT NULL', family, rows_table);
    ELSE
      EXECUTE format('INSERT INTO hub.rollup_dirty (workspace_id, family, at) SELECT DISTINCT r.workspace_id, %L, date_bin(''15 minutes'', t.at, timestamptz ''2000-01-01 00:00:00+00'') FROM %I r CROSS JOIN LATERAL (VALUES %s) t(at) WHERE t.at IS NOT NULL', family, rows_table, times);
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- A record's golden customer changed (merge, split, new link): the facts it states count for another customer now.
CREATE FUNCTION hub.rollups_dirty_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- A full reconcile rewrites every link: one "all" mark instead of a mark per record.
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    IF (SELECT count(*) FROM new_rows) > 20000 THEN
      INSERT INTO hub.rollup_dirty (workspace_id, family) SELECT DISTINCT n.workspace_id, 'all' FROM new_rows n;
    ELSE
      INSERT INTO hub.rollup_dirty (workspace_id, family, ref) SELECT n.workspace_id, 'links', n.source_record_id::text FROM new_rows n;
    END IF;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    IF (SELECT count(*) FROM old_rows) > 20000 THEN
      INSERT INTO hub.rollup_dirty (workspace_id, family) SELECT DISTINCT o.workspace_id, 'all' FROM old_rows o;
    ELSE
      INSERT INTO hub.rollup_dirty (workspace_id, family, ref) SELECT o.workspace_id, 'links', o.source_record_id::text FROM old_rows o;
    END IF;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- A golden customer's owner changed: the facts of its records count for another owner now.
CREATE FUNCTION hub.rollups_dirty_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO hub.rollup_dirty (workspace_id, family, ref)
  SELECT l.workspace_id, 'links', l.source_record_id::text
  FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN canonical.customer_links l ON l.customer_id = n.id
  WHERE n.owner IS DISTINCT FROM o.owner;
  RETURN NULL;
END $$;
--> statement-breakpoint
DO $$
DECLARE
  spec text[];
BEGIN
  FOREACH spec SLICE 1 IN ARRAY ARRAY[
    ['payments', 'payments', 'paid_at'],
    ['invoices', 'invoices', 'issued_at,due_at,paid_at'],
    ['deals', 'deals', 'created_at,closed_at,due_at'],
    ['tasks', 'tasks', 'due_at,completed_at'],
    ['messages', 'messages', 'sent_at'],
    ['satisfaction_responses', 'satisfaction', 'answered_at'],
    ['costs', 'costs', 'incurred_at']
  ] LOOP
    EXECUTE format('CREATE TRIGGER rollups_dirty_insert AFTER INSERT ON canonical.%I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hub.rollups_dirty(%L, %L)', spec[1], spec[2], spec[3]);
    EXECUTE format('CREATE TRIGGER rollups_dirty_update AFTER UPDATE ON canonical.%I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hub.rollups_dirty(%L, %L)', spec[1], spec[2], spec[3]);
    EXECUTE format('CREATE TRIGGER rollups_dirty_delete AFTER DELETE ON canonical.%I REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION hub.rollups_dirty(%L, %L)', spec[1], spec[2], spec[3]);
  END LOOP;
END $$;
--> statement-breakpoint
CREATE TRIGGER rollups_dirty_insert AFTER INSERT ON canonical.customer_links REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hub.rollups_dirty_links();
--> statement-breakpoint
CREATE TRIGGER rollups_dirty_update AFTER UPDATE ON canonical.customer_links REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hub.rollups_dirty_links();
--> statement-breakpoint
CREATE TRIGGER rollups_dirty_delete AFTER DELETE ON canonical.customer_links REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION hub.rollups_dirty_links();
--> statement-breakpoint
CREATE TRIGGER rollups_dirty_owner AFTER UPDATE ON canonical.customers REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hub.rollups_dirty_owner();
--> statement-breakpoint
-- Seconds between two instants that fall inside business hours (local days of the week
-- `days`, ISO 1 = Monday, from day_start to day_end in time zone tz). Numeric, so sums and
-- means do not depend on the order rows are read in.
CREATE FUNCTION hub.business_seconds(from_at timestamptz, to_at timestamptz, tz text, days int[], day_start time, day_end time) RETURNS numeric
LANGUAGE sql STABLE AS $$
  SELECT coalesce(sum(extract(epoch FROM least(to_at, (d + day_end) AT TIME ZONE tz) - greatest(from_at, (d + day_start) AT TIME ZONE tz))), 0)
  FROM generate_series((from_at AT TIME ZONE tz)::date::timestamp, (to_at AT TIME ZONE tz)::date::timestamp, interval '1 day') d
  WHERE extract(isodow FROM d)::int = ANY(days)
    AND least(to_at, (d + day_end) AT TIME ZONE tz) > greatest(from_at, (d + day_start) AT TIME ZONE tz)
$$;
