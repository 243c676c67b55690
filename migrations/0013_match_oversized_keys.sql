CREATE TABLE "hub"."match_oversized_keys" (
	"workspace_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"key" text NOT NULL,
	CONSTRAINT "match_oversized_keys_workspace_id_kind_key_pk" PRIMARY KEY("workspace_id","kind","key")
);
