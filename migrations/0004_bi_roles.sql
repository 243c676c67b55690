CREATE TABLE "hub"."bi_roles" (
	"role_name" text PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "hub"."bi_roles" ADD CONSTRAINT "bi_roles_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "hub"."workspaces"("id") ON DELETE no action ON UPDATE no action;