ALTER TABLE "hub"."customer_activity" ADD COLUMN "first" boolean DEFAULT false NOT NULL;--> statement-breakpoint
UPDATE "hub"."customer_activity" a SET first = true
FROM hub.customer_firsts f JOIN hub.workspaces w ON w.id = f.workspace_id
WHERE f.workspace_id = a.workspace_id AND f.customer_id = a.customer_id
  AND a.period_start = date_trunc(a.grain, f.first_paid_at AT TIME ZONE coalesce(w.settings->>'time_zone', 'UTC'))::date;
--> statement-breakpoint
-- The key carries the owner and the flag: a period's active and new customers are an index-only read.
ALTER TABLE "hub"."customer_activity" DROP CONSTRAINT "customer_activity_workspace_id_grain_period_start_customer_id_pk";
--> statement-breakpoint
ALTER TABLE "hub"."customer_activity" ADD CONSTRAINT "customer_activity_workspace_id_grain_period_start_customer_id_pk" PRIMARY KEY ("workspace_id", "grain", "period_start", "customer_id") INCLUDE ("owner", "first");
