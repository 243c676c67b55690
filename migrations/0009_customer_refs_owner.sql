ALTER TABLE "hub"."customer_refs" ADD COLUMN "owner" text;--> statement-breakpoint
UPDATE "hub"."customer_refs" r SET owner = c.owner FROM canonical.customers c WHERE c.id = r.customer_id AND c.owner IS NOT NULL;
