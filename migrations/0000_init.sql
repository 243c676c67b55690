CREATE SCHEMA "hub";
--> statement-breakpoint
CREATE SCHEMA "canonical";
--> statement-breakpoint
CREATE TABLE "hub"."api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"prefix" text NOT NULL,
	"hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "hub"."connections" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"credentials_encrypted" text,
	"schedule" text,
	"status" text DEFAULT 'active' NOT NULL,
	"status_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "hub"."fact_changes" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "hub"."fact_changes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"workspace_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"source_record_ids" bigint[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "hub"."files" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"filename" text NOT NULL,
	"path" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"sha256" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "hub"."quarantine" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "hub"."quarantine_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"sync_run_id" uuid,
	"stream" text NOT NULL,
	"external_id" text,
	"line" integer,
	"reason" text NOT NULL,
	"details" jsonb,
	"raw" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "hub"."source_records" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "hub"."source_records_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"stream" text NOT NULL,
	"external_id" text NOT NULL,
	"data" jsonb NOT NULL,
	"hash" text NOT NULL,
	"last_seen_read" uuid,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_in_source" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "hub"."stream_states" (
	"connection_id" uuid NOT NULL,
	"stream" text NOT NULL,
	"workspace_id" uuid NOT NULL,
	"cursor" jsonb,
	"read_id" uuid,
	"read_started_at" timestamp with time zone,
	"read_cursor" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stream_states_connection_id_stream_pk" PRIMARY KEY("connection_id","stream")
);
--> statement-breakpoint
CREATE TABLE "hub"."sync_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"trigger" text NOT NULL,
	"options" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"streams" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"notes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"error" jsonb,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"heartbeat_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "hub"."workspaces" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "canonical"."costs" (
	"source_record_id" bigint PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"external_id" text NOT NULL,
	"ingested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"deal_ref" text,
	"amount" bigint,
	"currency" text,
	"incurred_at" timestamp with time zone,
	"description" text
);
--> statement-breakpoint
CREATE TABLE "canonical"."deals" (
	"source_record_id" bigint PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"external_id" text NOT NULL,
	"ingested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"title" text,
	"customer_ref" text,
	"owner" text,
	"stage" text,
	"status" text,
	"amount" bigint,
	"currency" text,
	"created_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"due_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "canonical"."invoices" (
	"source_record_id" bigint PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"external_id" text NOT NULL,
	"ingested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"number" text,
	"customer_ref" text,
	"status" text,
	"amount_due" bigint,
	"amount_paid" bigint,
	"currency" text,
	"issued_at" timestamp with time zone,
	"due_at" timestamp with time zone,
	"paid_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "canonical"."messages" (
	"source_record_id" bigint PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"external_id" text NOT NULL,
	"ingested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"thread_ref" text,
	"direction" text,
	"from_address" text,
	"to_addresses" text[] DEFAULT '{}'::text[] NOT NULL,
	"cc_addresses" text[] DEFAULT '{}'::text[] NOT NULL,
	"sent_at" timestamp with time zone,
	"subject" text
);
--> statement-breakpoint
CREATE TABLE "canonical"."payments" (
	"source_record_id" bigint PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"external_id" text NOT NULL,
	"ingested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"customer_ref" text,
	"invoice_ref" text,
	"amount" bigint,
	"currency" text,
	"paid_at" timestamp with time zone,
	"refunded_amount" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "canonical"."source_people" (
	"source_record_id" bigint PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"external_id" text NOT NULL,
	"ingested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"name" text,
	"first_name" text,
	"last_name" text,
	"emails" text[] DEFAULT '{}'::text[] NOT NULL,
	"phones" text[] DEFAULT '{}'::text[] NOT NULL,
	"organization_name" text,
	"owner" text,
	"birth_date" text,
	"address" text,
	"city" text,
	"postal_code" text,
	"national_id" text,
	"attributes" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "canonical"."satisfaction_responses" (
	"source_record_id" bigint PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"external_id" text NOT NULL,
	"ingested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"customer_ref" text,
	"score" numeric,
	"scale" numeric,
	"answered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "canonical"."source_organizations" (
	"source_record_id" bigint PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"external_id" text NOT NULL,
	"ingested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"name" text,
	"domains" text[] DEFAULT '{}'::text[] NOT NULL,
	"phones" text[] DEFAULT '{}'::text[] NOT NULL,
	"tax_id" text
);
--> statement-breakpoint
CREATE TABLE "canonical"."tasks" (
	"source_record_id" bigint PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"external_id" text NOT NULL,
	"ingested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"title" text,
	"owner" text,
	"status" text,
	"customer_ref" text,
	"due_at" timestamp with time zone,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "hub"."events" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"type" text NOT NULL,
	"subject" text,
	"data" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "hub"."webhook_attempts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "hub"."webhook_attempts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"delivery_id" bigint NOT NULL,
	"endpoint_id" uuid NOT NULL,
	"attempt" integer NOT NULL,
	"url" text NOT NULL,
	"outcome" text NOT NULL,
	"status_code" integer,
	"error" text,
	"latency_ms" integer NOT NULL,
	"response_snippet" text,
	"attempted_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "hub"."webhook_deliveries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "hub"."webhook_deliveries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"workspace_id" uuid NOT NULL,
	"event_id" text NOT NULL,
	"endpoint_id" uuid NOT NULL,
	"subject" text,
	"trigger" text DEFAULT 'event' NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"claimed_until" timestamp with time zone,
	"last_status_code" integer,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "hub"."webhook_endpoints" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"url" text NOT NULL,
	"description" text,
	"event_types" text[] DEFAULT '{}'::text[] NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"status" text DEFAULT 'healthy' NOT NULL,
	"disabled_reason" text,
	"secret_encrypted" text NOT NULL,
	"previous_secret_encrypted" text,
	"previous_secret_expires_at" timestamp with time zone,
	"failing_since" timestamp with time zone,
	"last_success_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "canonical"."customer_links" (
	"source_record_id" bigint PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"self_id" uuid NOT NULL,
	"rule" text NOT NULL,
	"score" double precision,
	"evidence" jsonb,
	"linked_by" text NOT NULL,
	"linked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"customer_id" uuid NOT NULL
);
--> statement-breakpoint
CREATE TABLE "canonical"."customers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"anchor_record_id" bigint NOT NULL,
	"name" text,
	"phones" text[] DEFAULT '{}'::text[] NOT NULL,
	"sources" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"record_count" integer NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"emails" text[] DEFAULT '{}'::text[] NOT NULL,
	"organization_id" uuid,
	"organization_name" text,
	"owner" text,
	"birth_date" text,
	"address" text,
	"city" text,
	"postal_code" text
);
--> statement-breakpoint
CREATE TABLE "hub"."match_candidates" (
	"workspace_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"record_a" bigint NOT NULL,
	"record_b" bigint NOT NULL,
	"score" double precision NOT NULL,
	"reason" text NOT NULL,
	"evidence" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "match_candidates_workspace_id_kind_record_a_record_b_pk" PRIMARY KEY("workspace_id","kind","record_a","record_b")
);
--> statement-breakpoint
CREATE TABLE "hub"."match_models" (
	"workspace_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"params" jsonb NOT NULL,
	"trained_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "match_models_workspace_id_kind_pk" PRIMARY KEY("workspace_id","kind")
);
--> statement-breakpoint
CREATE TABLE "hub"."match_overrides" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "hub"."match_overrides_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"workspace_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"action" text NOT NULL,
	"group_id" uuid NOT NULL,
	"record_a" bigint NOT NULL,
	"record_b" bigint NOT NULL,
	"link" text NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "hub"."match_records" (
	"source_record_id" bigint PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"features" jsonb NOT NULL,
	"keys" text[] NOT NULL
);
--> statement-breakpoint
CREATE TABLE "canonical"."organization_links" (
	"source_record_id" bigint PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"self_id" uuid NOT NULL,
	"rule" text NOT NULL,
	"score" double precision,
	"evidence" jsonb,
	"linked_by" text NOT NULL,
	"linked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"organization_id" uuid NOT NULL
);
--> statement-breakpoint
CREATE TABLE "canonical"."organizations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"anchor_record_id" bigint NOT NULL,
	"name" text,
	"phones" text[] DEFAULT '{}'::text[] NOT NULL,
	"sources" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"record_count" integer NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"domains" text[] DEFAULT '{}'::text[] NOT NULL,
	"tax_id" text
);
--> statement-breakpoint
ALTER TABLE "hub"."api_keys" ADD CONSTRAINT "api_keys_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "hub"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub"."connections" ADD CONSTRAINT "connections_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "hub"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub"."files" ADD CONSTRAINT "files_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "hub"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub"."files" ADD CONSTRAINT "files_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "hub"."connections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub"."stream_states" ADD CONSTRAINT "stream_states_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "hub"."connections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub"."stream_states" ADD CONSTRAINT "stream_states_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "hub"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub"."sync_runs" ADD CONSTRAINT "sync_runs_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "hub"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub"."sync_runs" ADD CONSTRAINT "sync_runs_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "hub"."connections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub"."events" ADD CONSTRAINT "events_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "hub"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub"."webhook_attempts" ADD CONSTRAINT "webhook_attempts_delivery_id_webhook_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "hub"."webhook_deliveries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub"."webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_event_id_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "hub"."events"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub"."webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpoint_id_webhook_endpoints_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "hub"."webhook_endpoints"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub"."webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "hub"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash_key" ON "hub"."api_keys" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "connections_workspace_idx" ON "hub"."connections" USING btree ("workspace_id","created_at");--> statement-breakpoint
CREATE INDEX "fact_changes_workspace_idx" ON "hub"."fact_changes" USING btree ("workspace_id","id");--> statement-breakpoint
CREATE INDEX "files_connection_idx" ON "hub"."files" USING btree ("connection_id","created_at");--> statement-breakpoint
CREATE INDEX "quarantine_connection_idx" ON "hub"."quarantine" USING btree ("connection_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "source_records_identity" ON "hub"."source_records" USING btree ("connection_id","stream","external_id");--> statement-breakpoint
CREATE INDEX "sync_runs_connection_idx" ON "hub"."sync_runs" USING btree ("connection_id","requested_at");--> statement-breakpoint
CREATE INDEX "sync_runs_workspace_idx" ON "hub"."sync_runs" USING btree ("workspace_id","requested_at");--> statement-breakpoint
CREATE UNIQUE INDEX "sync_runs_one_active_per_connection" ON "hub"."sync_runs" USING btree ("connection_id") WHERE status in ('queued', 'running');--> statement-breakpoint
CREATE INDEX "costs_workspace_connection_external_idx" ON "canonical"."costs" USING btree ("workspace_id","connection_id","external_id");--> statement-breakpoint
CREATE INDEX "deals_workspace_connection_external_idx" ON "canonical"."deals" USING btree ("workspace_id","connection_id","external_id");--> statement-breakpoint
CREATE INDEX "invoices_workspace_connection_external_idx" ON "canonical"."invoices" USING btree ("workspace_id","connection_id","external_id");--> statement-breakpoint
CREATE INDEX "messages_workspace_connection_external_idx" ON "canonical"."messages" USING btree ("workspace_id","connection_id","external_id");--> statement-breakpoint
CREATE INDEX "payments_workspace_connection_external_idx" ON "canonical"."payments" USING btree ("workspace_id","connection_id","external_id");--> statement-breakpoint
CREATE INDEX "source_people_workspace_connection_external_idx" ON "canonical"."source_people" USING btree ("workspace_id","connection_id","external_id");--> statement-breakpoint
CREATE INDEX "satisfaction_responses_workspace_connection_external_idx" ON "canonical"."satisfaction_responses" USING btree ("workspace_id","connection_id","external_id");--> statement-breakpoint
CREATE INDEX "source_organizations_workspace_connection_external_idx" ON "canonical"."source_organizations" USING btree ("workspace_id","connection_id","external_id");--> statement-breakpoint
CREATE INDEX "tasks_workspace_connection_external_idx" ON "canonical"."tasks" USING btree ("workspace_id","connection_id","external_id");--> statement-breakpoint
CREATE INDEX "events_workspace_idx" ON "hub"."events" USING btree ("workspace_id","created_at","id");--> statement-breakpoint
CREATE INDEX "webhook_attempts_delivery_idx" ON "hub"."webhook_attempts" USING btree ("delivery_id","id");--> statement-breakpoint
CREATE INDEX "webhook_attempts_endpoint_idx" ON "hub"."webhook_attempts" USING btree ("endpoint_id","attempted_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_event_idx" ON "hub"."webhook_deliveries" USING btree ("event_id","id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_open_subject_idx" ON "hub"."webhook_deliveries" USING btree ("endpoint_id","subject","id") WHERE status in ('pending', 'sending', 'waiting', 'throttled') and subject is not null;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_queue_idx" ON "hub"."webhook_deliveries" USING btree ("endpoint_id","status","id") WHERE status in ('sending', 'throttled');--> statement-breakpoint
CREATE INDEX "webhook_deliveries_unfinished_idx" ON "hub"."webhook_deliveries" USING btree ("status","id") WHERE status in ('pending', 'sending', 'waiting', 'throttled');--> statement-breakpoint
CREATE INDEX "webhook_deliveries_endpoint_idx" ON "hub"."webhook_deliveries" USING btree ("endpoint_id","id");--> statement-breakpoint
CREATE INDEX "webhook_endpoints_workspace_idx" ON "hub"."webhook_endpoints" USING btree ("workspace_id","created_at");--> statement-breakpoint
CREATE INDEX "customer_links_customer_idx" ON "canonical"."customer_links" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "customer_links_self_idx" ON "canonical"."customer_links" USING btree ("self_id");--> statement-breakpoint
CREATE INDEX "customers_workspace_idx" ON "canonical"."customers" USING btree ("workspace_id");--> statement-breakpoint
CREATE INDEX "customers_organization_idx" ON "canonical"."customers" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "match_candidates_a_idx" ON "hub"."match_candidates" USING btree ("record_a");--> statement-breakpoint
CREATE INDEX "match_candidates_b_idx" ON "hub"."match_candidates" USING btree ("record_b");--> statement-breakpoint
CREATE INDEX "match_overrides_workspace_idx" ON "hub"."match_overrides" USING btree ("workspace_id","kind");--> statement-breakpoint
CREATE INDEX "match_overrides_a_idx" ON "hub"."match_overrides" USING btree ("record_a");--> statement-breakpoint
CREATE INDEX "match_overrides_b_idx" ON "hub"."match_overrides" USING btree ("record_b");--> statement-breakpoint
CREATE INDEX "match_records_keys_idx" ON "hub"."match_records" USING gin ("keys");--> statement-breakpoint
CREATE INDEX "match_records_workspace_idx" ON "hub"."match_records" USING btree ("workspace_id","kind");--> statement-breakpoint
CREATE INDEX "organization_links_organization_idx" ON "canonical"."organization_links" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "organization_links_self_idx" ON "canonical"."organization_links" USING btree ("self_id");--> statement-breakpoint
CREATE INDEX "organizations_workspace_idx" ON "canonical"."organizations" USING btree ("workspace_id");