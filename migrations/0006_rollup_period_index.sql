DROP INDEX "canonical"."payments_customer_idx";--> statement-breakpoint
CREATE INDEX "metric_rollups_period_idx" ON "canonical"."metric_rollups" USING btree ("workspace_id","grain","period_start","metric");--> statement-breakpoint
CREATE INDEX "payments_customer_idx" ON "canonical"."payments" USING btree ("workspace_id","connection_id","customer_ref","paid_at");