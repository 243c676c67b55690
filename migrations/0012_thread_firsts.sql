CREATE TABLE "hub"."thread_firsts" (
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"thread_ref" text NOT NULL,
	"first_in" timestamp with time zone NOT NULL,
	"first_out" timestamp with time zone,
	CONSTRAINT "thread_firsts_workspace_id_connection_id_thread_ref_pk" PRIMARY KEY("workspace_id","connection_id","thread_ref")
);
--> statement-breakpoint
-- Carries the other columns (drizzle cannot say INCLUDE): a period's threads are an index-only read.
CREATE INDEX "thread_firsts_first_in_idx" ON "hub"."thread_firsts" USING btree ("workspace_id","first_in") INCLUDE ("connection_id","first_out");
--> statement-breakpoint
-- Existing workspaces: every thread once (later the drain keeps them).
INSERT INTO "hub"."thread_firsts" (workspace_id, connection_id, thread_ref, first_in, first_out)
SELECT i.workspace_id, i.connection_id, i.thread_ref, i.first_in,
  (SELECT min(o.sent_at) FROM canonical.messages o WHERE o.workspace_id = i.workspace_id AND o.connection_id = i.connection_id AND o.thread_ref = i.thread_ref
    AND o.direction = 'outbound' AND o.deleted_at IS NULL AND o.sent_at > i.first_in)
FROM (
  SELECT workspace_id, connection_id, thread_ref, min(sent_at) AS first_in FROM canonical.messages
  WHERE direction = 'inbound' AND deleted_at IS NULL AND thread_ref IS NOT NULL AND sent_at IS NOT NULL
  GROUP BY workspace_id, connection_id, thread_ref
) i;