-- One source record can be both a person and an organization: match records are keyed by both.
ALTER TABLE "hub"."match_records" DROP CONSTRAINT "match_records_pkey";--> statement-breakpoint
ALTER TABLE "hub"."match_records" ADD CONSTRAINT "match_records_source_record_id_kind_pk" PRIMARY KEY("source_record_id","kind");
