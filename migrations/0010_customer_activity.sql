CREATE TABLE "hub"."customer_activity" (
	"workspace_id" uuid NOT NULL,
	"grain" text NOT NULL,
	"period_start" date NOT NULL,
	"customer_id" uuid NOT NULL,
	"owner" text,
	CONSTRAINT "customer_activity_workspace_id_grain_period_start_customer_id_pk" PRIMARY KEY("workspace_id","grain","period_start","customer_id") INCLUDE ("owner")
);
-- The key carries the owner (drizzle cannot say INCLUDE): a period's active set is an index-only read.
--> statement-breakpoint
-- Existing workspaces: every customer's active periods, in the workspace's time zone (later the drain keeps them).
INSERT INTO "hub"."customer_activity" (workspace_id, grain, period_start, customer_id, owner)
SELECT DISTINCT r.workspace_id, g.grain, date_trunc(g.grain, f.paid_at AT TIME ZONE coalesce(w.settings->>'time_zone', 'UTC'))::date, r.customer_id, r.owner
FROM canonical.payments f
JOIN hub.customer_refs r ON r.workspace_id = f.workspace_id AND r.connection_id = f.connection_id AND r.external_id = f.customer_ref
JOIN hub.workspaces w ON w.id = f.workspace_id
CROSS JOIN (VALUES ('day'), ('week'), ('month')) g(grain)
WHERE f.deleted_at IS NULL AND f.paid_at IS NOT NULL AND coalesce(f.amount, 0) - coalesce(f.refunded_amount, 0) > 0
ORDER BY 1, 2, 3;
