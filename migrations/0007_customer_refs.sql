CREATE TABLE "hub"."customer_refs" (
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"external_id" text NOT NULL,
	"customer_id" uuid NOT NULL,
	CONSTRAINT "customer_refs_workspace_id_connection_id_external_id_pk" PRIMARY KEY("workspace_id","connection_id","external_id")
);
--> statement-breakpoint
CREATE INDEX "customer_refs_customer_idx" ON "hub"."customer_refs" USING btree ("workspace_id","customer_id");--> statement-breakpoint
-- Existing workspaces: resolve every reference once (later the rollup drain keeps it).
INSERT INTO "hub"."customer_refs" (workspace_id, connection_id, external_id, customer_id)
SELECT DISTINCT ON (sp.workspace_id, sp.connection_id, sp.external_id) sp.workspace_id, sp.connection_id, sp.external_id, cl.customer_id
FROM canonical.source_people sp JOIN canonical.customer_links cl ON cl.source_record_id = sp.source_record_id
WHERE sp.deleted_at IS NULL
ORDER BY sp.workspace_id, sp.connection_id, sp.external_id, sp.source_record_id;
--> statement-breakpoint
-- A linked person record that is tombstoned, revived or deleted changes which customer its
-- external id names (the lowest live linked record wins): mark it like a link change, so the
-- drain re-resolves the reference and recomputes the periods of the facts that name it.
CREATE FUNCTION hub.rollups_dirty_people() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO hub.rollup_dirty (workspace_id, family, ref)
    SELECT n.workspace_id, 'links', n.source_record_id::text
    FROM new_rows n JOIN old_rows o ON o.source_record_id = n.source_record_id
    WHERE (n.deleted_at IS NULL) <> (o.deleted_at IS NULL) AND EXISTS (SELECT 1 FROM canonical.customer_links l WHERE l.source_record_id = n.source_record_id);
  ELSE
    INSERT INTO hub.rollup_dirty (workspace_id, family, ref)
    SELECT o.workspace_id, 'people', o.connection_id::text || '|' || o.external_id
    FROM old_rows o WHERE EXISTS (SELECT 1 FROM hub.customer_refs r WHERE r.workspace_id = o.workspace_id AND r.connection_id = o.connection_id AND r.external_id = o.external_id);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER rollups_dirty_people_update AFTER UPDATE ON canonical.source_people REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hub.rollups_dirty_people();
--> statement-breakpoint
CREATE TRIGGER rollups_dirty_people_delete AFTER DELETE ON canonical.source_people REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION hub.rollups_dirty_people();
