-- The BI contract: schema bi, stable views over golden records, facts and rollups, every
-- column commented. A BI login role (`hub bi-role create`) is registered in hub.bi_roles and
-- sees the rows of its workspace only; the hub's own database user (owner of these views)
-- sees every workspace. The views are security barriers, so a role's own functions in a
-- WHERE clause cannot see rows the filter removes.
CREATE SCHEMA IF NOT EXISTS bi;
--> statement-breakpoint
COMMENT ON SCHEMA bi IS 'Stable, documented views for BI tools (docs/bi.md). Read-only; one workspace per BI role.';
--> statement-breakpoint
CREATE VIEW hub.bi_visible_workspaces AS
  SELECT r.workspace_id FROM hub.bi_roles r WHERE r.role_name = current_user
  UNION ALL
  SELECT w.id FROM hub.workspaces w
  WHERE current_user = (SELECT pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid = 'hub.workspaces'::regclass);
--> statement-breakpoint
COMMENT ON VIEW hub.bi_visible_workspaces IS 'The workspaces the querying role may see through bi: its own for a BI role, all for the owner.';
--> statement-breakpoint
CREATE VIEW bi.connections WITH (security_barrier) AS
  SELECT
    f.id AS id,
    f.workspace_id AS workspace_id,
    f.kind AS kind,
    f.name AS name,
    f.status AS status,
    f.created_at AS created_at
  FROM hub.connections f
  WHERE f.workspace_id in (select v.workspace_id from hub.bi_visible_workspaces v) AND f.deleted_at is null;
--> statement-breakpoint
COMMENT ON VIEW bi.connections IS 'Sources the workspace reads (never their configuration or credentials).';
--> statement-breakpoint
COMMENT ON COLUMN bi.connections.id IS 'The connection''s id.';
--> statement-breakpoint
COMMENT ON COLUMN bi.connections.workspace_id IS 'The workspace.';
--> statement-breakpoint
COMMENT ON COLUMN bi.connections.kind IS 'Connector kind, e.g. csv.';
--> statement-breakpoint
COMMENT ON COLUMN bi.connections.name IS 'The name an admin gave it.';
--> statement-breakpoint
COMMENT ON COLUMN bi.connections.status IS 'active, needs_reauth or failing.';
--> statement-breakpoint
COMMENT ON COLUMN bi.connections.created_at IS 'When it was created.';
--> statement-breakpoint
CREATE VIEW bi.customers WITH (security_barrier) AS
  SELECT
    f.id AS id,
    f.workspace_id AS workspace_id,
    f.name AS name,
    f.emails AS emails,
    f.phones AS phones,
    f.organization_id AS organization_id,
    f.organization_name AS organization_name,
    f.owner AS owner,
    f.city AS city,
    f.record_count AS record_count,
    f.first_seen_at AS first_seen_at,
    f.updated_at AS updated_at
  FROM canonical.customers f
  WHERE f.workspace_id in (select v.workspace_id from hub.bi_visible_workspaces v);
--> statement-breakpoint
COMMENT ON VIEW bi.customers IS 'Golden customers: one per real client, reconciled across sources.';
--> statement-breakpoint
COMMENT ON COLUMN bi.customers.id IS 'Golden customer id (stable; an absorbed id resolves to its survivor in the API).';
--> statement-breakpoint
COMMENT ON COLUMN bi.customers.workspace_id IS 'The workspace.';
--> statement-breakpoint
COMMENT ON COLUMN bi.customers.name IS 'Name, chosen by survivorship (see bi.customer_sources).';
--> statement-breakpoint
COMMENT ON COLUMN bi.customers.emails IS 'Every email of its source records, normalized.';
--> statement-breakpoint
COMMENT ON COLUMN bi.customers.phones IS 'Every phone of its source records, E.164.';
--> statement-breakpoint
COMMENT ON COLUMN bi.customers.organization_id IS 'Golden organization (bi.organizations.id), if known.';
--> statement-breakpoint
COMMENT ON COLUMN bi.customers.organization_name IS 'Company name as the sources write it.';
--> statement-breakpoint
COMMENT ON COLUMN bi.customers.owner IS 'Team member who owns the client, from the sources.';
--> statement-breakpoint
COMMENT ON COLUMN bi.customers.city IS 'City, if a source states it.';
--> statement-breakpoint
COMMENT ON COLUMN bi.customers.record_count IS 'How many source records are linked to it.';
--> statement-breakpoint
COMMENT ON COLUMN bi.customers.first_seen_at IS 'When the hub first saw any of its records.';
--> statement-breakpoint
COMMENT ON COLUMN bi.customers.updated_at IS 'When the golden record last changed.';
--> statement-breakpoint
CREATE VIEW bi.customer_sources WITH (security_barrier) AS
  SELECT
    f.customer_id AS customer_id,
    f.workspace_id AS workspace_id,
    f.source_record_id AS source_record_id,
    f.connection_id AS connection_id,
    c.name AS connection_name,
    f.rule AS rule,
    f.score AS score,
    f.linked_by AS linked_by,
    f.linked_at AS linked_at
  FROM canonical.customer_links f join hub.connections c on c.id = f.connection_id
  WHERE f.workspace_id in (select v.workspace_id from hub.bi_visible_workspaces v);
--> statement-breakpoint
COMMENT ON VIEW bi.customer_sources IS 'Which source records make up each golden customer, and why they were linked.';
--> statement-breakpoint
COMMENT ON COLUMN bi.customer_sources.customer_id IS 'The golden customer (bi.customers.id).';
--> statement-breakpoint
COMMENT ON COLUMN bi.customer_sources.workspace_id IS 'The workspace.';
--> statement-breakpoint
COMMENT ON COLUMN bi.customer_sources.source_record_id IS 'The linked source record (the person as one source states it).';
--> statement-breakpoint
COMMENT ON COLUMN bi.customer_sources.connection_id IS 'Its connection.';
--> statement-breakpoint
COMMENT ON COLUMN bi.customer_sources.connection_name IS 'Its connection''s name.';
--> statement-breakpoint
COMMENT ON COLUMN bi.customer_sources.rule IS 'anchor (the oldest record, whose id names the customer), auto (matched) or admin (merged by an admin).';
--> statement-breakpoint
COMMENT ON COLUMN bi.customer_sources.score IS 'Match weight of the link (log2 likelihood ratio); null for the anchor.';
--> statement-breakpoint
COMMENT ON COLUMN bi.customer_sources.linked_by IS 'auto or admin.';
--> statement-breakpoint
COMMENT ON COLUMN bi.customer_sources.linked_at IS 'When the link was made.';
--> statement-breakpoint
CREATE VIEW bi.organizations WITH (security_barrier) AS
  SELECT
    f.id AS id,
    f.workspace_id AS workspace_id,
    f.name AS name,
    f.domains AS domains,
    f.phones AS phones,
    f.tax_id AS tax_id,
    f.record_count AS record_count,
    f.first_seen_at AS first_seen_at,
    f.updated_at AS updated_at
  FROM canonical.organizations f
  WHERE f.workspace_id in (select v.workspace_id from hub.bi_visible_workspaces v);
--> statement-breakpoint
COMMENT ON VIEW bi.organizations IS 'Golden organizations (companies), reconciled across sources.';
--> statement-breakpoint
COMMENT ON COLUMN bi.organizations.id IS 'Golden organization id.';
--> statement-breakpoint
COMMENT ON COLUMN bi.organizations.workspace_id IS 'The workspace.';
--> statement-breakpoint
COMMENT ON COLUMN bi.organizations.name IS 'Name, chosen by survivorship.';
--> statement-breakpoint
COMMENT ON COLUMN bi.organizations.domains IS 'Web/email domains.';
--> statement-breakpoint
COMMENT ON COLUMN bi.organizations.phones IS 'Phones, E.164.';
--> statement-breakpoint
COMMENT ON COLUMN bi.organizations.tax_id IS 'Tax id (INN, VAT…), if known.';
--> statement-breakpoint
COMMENT ON COLUMN bi.organizations.record_count IS 'How many source records are linked to it.';
--> statement-breakpoint
COMMENT ON COLUMN bi.organizations.first_seen_at IS 'When the hub first saw any of its records.';
--> statement-breakpoint
COMMENT ON COLUMN bi.organizations.updated_at IS 'When the golden record last changed.';
--> statement-breakpoint
CREATE VIEW bi.deals WITH (security_barrier) AS
  SELECT
    f.source_record_id AS id,
    f.workspace_id AS workspace_id,
    f.connection_id AS connection_id,
    f.external_id AS external_id,
    pc.customer_id AS customer_id,
    f.title AS title,
    f.owner AS owner,
    f.stage AS stage,
    f.status AS status,
    f.amount AS amount,
    f.currency AS currency,
    f.created_at AS created_at,
    f.closed_at AS closed_at,
    f.due_at AS due_at,
    f.ingested_at AS ingested_at,
    f.updated_at AS updated_at
  FROM canonical.deals f left join lateral (
    select cl.customer_id from canonical.source_people sp join canonical.customer_links cl on cl.source_record_id = sp.source_record_id
    where sp.workspace_id = f.workspace_id and sp.connection_id = f.connection_id and sp.external_id = f.customer_ref and sp.deleted_at is null
    order by sp.source_record_id limit 1) pc on true
  WHERE f.workspace_id in (select v.workspace_id from hub.bi_visible_workspaces v) AND f.deleted_at is null;
--> statement-breakpoint
COMMENT ON VIEW bi.deals IS 'Deals, jobs and projects, as each source states them (deleted ones excluded).';
--> statement-breakpoint
COMMENT ON COLUMN bi.deals.id IS 'The fact''s id: the source record it came from (stable across syncs).';
--> statement-breakpoint
COMMENT ON COLUMN bi.deals.workspace_id IS 'The workspace (one business).';
--> statement-breakpoint
COMMENT ON COLUMN bi.deals.connection_id IS 'The connection (source) it came from: bi.connections.id.';
--> statement-breakpoint
COMMENT ON COLUMN bi.deals.external_id IS 'The record''s id in its source.';
--> statement-breakpoint
COMMENT ON COLUMN bi.deals.customer_id IS 'The golden customer (bi.customers.id) of the person the source names as the client; null when not known.';
--> statement-breakpoint
COMMENT ON COLUMN bi.deals.title IS 'Title of the job.';
--> statement-breakpoint
COMMENT ON COLUMN bi.deals.owner IS 'Team member who owns it.';
--> statement-breakpoint
COMMENT ON COLUMN bi.deals.stage IS 'Pipeline stage as the source writes it.';
--> statement-breakpoint
COMMENT ON COLUMN bi.deals.status IS 'open, won, lost or completed.';
--> statement-breakpoint
COMMENT ON COLUMN bi.deals.amount IS 'Amount in minor units (cents, kopecks) of currency.';
--> statement-breakpoint
COMMENT ON COLUMN bi.deals.currency IS 'ISO 4217 code.';
--> statement-breakpoint
COMMENT ON COLUMN bi.deals.created_at IS 'When it was created.';
--> statement-breakpoint
COMMENT ON COLUMN bi.deals.closed_at IS 'When it was closed (won, lost or completed).';
--> statement-breakpoint
COMMENT ON COLUMN bi.deals.due_at IS 'When it is due.';
--> statement-breakpoint
COMMENT ON COLUMN bi.deals.ingested_at IS 'When the hub first read it.';
--> statement-breakpoint
COMMENT ON COLUMN bi.deals.updated_at IS 'When the hub last saw it change.';
--> statement-breakpoint
CREATE VIEW bi.invoices WITH (security_barrier) AS
  SELECT
    f.source_record_id AS id,
    f.workspace_id AS workspace_id,
    f.connection_id AS connection_id,
    f.external_id AS external_id,
    pc.customer_id AS customer_id,
    f.number AS number,
    f.status AS status,
    f.amount_due AS amount_due,
    f.amount_paid AS amount_paid,
    greatest(coalesce(f.amount_due, 0) - coalesce(f.amount_paid, 0), 0) AS outstanding,
    f.currency AS currency,
    f.issued_at AS issued_at,
    f.due_at AS due_at,
    f.paid_at AS paid_at,
    (f.due_at < now() and f.paid_at is null and coalesce(f.status, 'open') not in ('paid', 'void', 'draft')) AS is_overdue,
    f.ingested_at AS ingested_at,
    f.updated_at AS updated_at
  FROM canonical.invoices f left join lateral (
    select cl.customer_id from canonical.source_people sp join canonical.customer_links cl on cl.source_record_id = sp.source_record_id
    where sp.workspace_id = f.workspace_id and sp.connection_id = f.connection_id and sp.external_id = f.customer_ref and sp.deleted_at is null
    order by sp.source_record_id limit 1) pc on true
  WHERE f.workspace_id in (select v.workspace_id from hub.bi_visible_workspaces v) AND f.deleted_at is null;
--> statement-breakpoint
COMMENT ON VIEW bi.invoices IS 'Invoices (deleted ones excluded).';
--> statement-breakpoint
COMMENT ON COLUMN bi.invoices.id IS 'The fact''s id: the source record it came from (stable across syncs).';
--> statement-breakpoint
COMMENT ON COLUMN bi.invoices.workspace_id IS 'The workspace (one business).';
--> statement-breakpoint
COMMENT ON COLUMN bi.invoices.connection_id IS 'The connection (source) it came from: bi.connections.id.';
--> statement-breakpoint
COMMENT ON COLUMN bi.invoices.external_id IS 'The record''s id in its source.';
--> statement-breakpoint
COMMENT ON COLUMN bi.invoices.customer_id IS 'The golden customer (bi.customers.id) of the person the source names as the client; null when not known.';
--> statement-breakpoint
COMMENT ON COLUMN bi.invoices.number IS 'Invoice number.';
--> statement-breakpoint
COMMENT ON COLUMN bi.invoices.status IS 'draft, open, paid, void or uncollectible.';
--> statement-breakpoint
COMMENT ON COLUMN bi.invoices.amount_due IS 'Amount due, minor units.';
--> statement-breakpoint
COMMENT ON COLUMN bi.invoices.amount_paid IS 'Amount paid, minor units.';
--> statement-breakpoint
COMMENT ON COLUMN bi.invoices.outstanding IS 'amount_due − amount_paid, not below zero.';
--> statement-breakpoint
COMMENT ON COLUMN bi.invoices.currency IS 'ISO 4217 code.';
--> statement-breakpoint
COMMENT ON COLUMN bi.invoices.issued_at IS 'When it was issued.';
--> statement-breakpoint
COMMENT ON COLUMN bi.invoices.due_at IS 'When it is due.';
--> statement-breakpoint
COMMENT ON COLUMN bi.invoices.paid_at IS 'When it was paid.';
--> statement-breakpoint
COMMENT ON COLUMN bi.invoices.is_overdue IS 'Past due and not paid, void or draft, as of the query.';
--> statement-breakpoint
COMMENT ON COLUMN bi.invoices.ingested_at IS 'When the hub first read it.';
--> statement-breakpoint
COMMENT ON COLUMN bi.invoices.updated_at IS 'When the hub last saw it change.';
--> statement-breakpoint
CREATE VIEW bi.payments WITH (security_barrier) AS
  SELECT
    f.source_record_id AS id,
    f.workspace_id AS workspace_id,
    f.connection_id AS connection_id,
    f.external_id AS external_id,
    pc.customer_id AS customer_id,
    f.invoice_ref AS invoice_ref,
    f.amount AS amount,
    f.refunded_amount AS refunded_amount,
    coalesce(f.amount, 0) - coalesce(f.refunded_amount, 0) AS net_amount,
    f.currency AS currency,
    f.paid_at AS paid_at,
    f.ingested_at AS ingested_at,
    f.updated_at AS updated_at
  FROM canonical.payments f left join lateral (
    select cl.customer_id from canonical.source_people sp join canonical.customer_links cl on cl.source_record_id = sp.source_record_id
    where sp.workspace_id = f.workspace_id and sp.connection_id = f.connection_id and sp.external_id = f.customer_ref and sp.deleted_at is null
    order by sp.source_record_id limit 1) pc on true
  WHERE f.workspace_id in (select v.workspace_id from hub.bi_visible_workspaces v) AND f.deleted_at is null;
--> statement-breakpoint
COMMENT ON VIEW bi.payments IS 'Payments (deleted ones excluded).';
--> statement-breakpoint
COMMENT ON COLUMN bi.payments.id IS 'The fact''s id: the source record it came from (stable across syncs).';
--> statement-breakpoint
COMMENT ON COLUMN bi.payments.workspace_id IS 'The workspace (one business).';
--> statement-breakpoint
COMMENT ON COLUMN bi.payments.connection_id IS 'The connection (source) it came from: bi.connections.id.';
--> statement-breakpoint
COMMENT ON COLUMN bi.payments.external_id IS 'The record''s id in its source.';
--> statement-breakpoint
COMMENT ON COLUMN bi.payments.customer_id IS 'The golden customer (bi.customers.id) of the person the source names as the client; null when not known.';
--> statement-breakpoint
COMMENT ON COLUMN bi.payments.invoice_ref IS 'The source''s id of the invoice it pays, if any.';
--> statement-breakpoint
COMMENT ON COLUMN bi.payments.amount IS 'Amount paid, minor units.';
--> statement-breakpoint
COMMENT ON COLUMN bi.payments.refunded_amount IS 'Amount refunded since, minor units.';
--> statement-breakpoint
COMMENT ON COLUMN bi.payments.net_amount IS 'amount − refunded_amount: what revenue counts.';
--> statement-breakpoint
COMMENT ON COLUMN bi.payments.currency IS 'ISO 4217 code.';
--> statement-breakpoint
COMMENT ON COLUMN bi.payments.paid_at IS 'When it was paid.';
--> statement-breakpoint
COMMENT ON COLUMN bi.payments.ingested_at IS 'When the hub first read it.';
--> statement-breakpoint
COMMENT ON COLUMN bi.payments.updated_at IS 'When the hub last saw it change.';
--> statement-breakpoint
CREATE VIEW bi.messages WITH (security_barrier) AS
  SELECT
    f.source_record_id AS id,
    f.workspace_id AS workspace_id,
    f.connection_id AS connection_id,
    f.external_id AS external_id,
    f.thread_ref AS thread_ref,
    f.direction AS direction,
    f.from_address AS from_address,
    f.to_addresses AS to_addresses,
    f.cc_addresses AS cc_addresses,
    f.sent_at AS sent_at,
    f.subject AS subject,
    f.ingested_at AS ingested_at,
    f.updated_at AS updated_at
  FROM canonical.messages f
  WHERE f.workspace_id in (select v.workspace_id from hub.bi_visible_workspaces v) AND f.deleted_at is null;
--> statement-breakpoint
COMMENT ON VIEW bi.messages IS 'Mail messages: metadata only (no bodies). Deleted ones excluded.';
--> statement-breakpoint
COMMENT ON COLUMN bi.messages.id IS 'The fact''s id: the source record it came from (stable across syncs).';
--> statement-breakpoint
COMMENT ON COLUMN bi.messages.workspace_id IS 'The workspace (one business).';
--> statement-breakpoint
COMMENT ON COLUMN bi.messages.connection_id IS 'The connection (source) it came from: bi.connections.id.';
--> statement-breakpoint
COMMENT ON COLUMN bi.messages.external_id IS 'The record''s id in its source.';
--> statement-breakpoint
COMMENT ON COLUMN bi.messages.thread_ref IS 'The source''s thread id.';
--> statement-breakpoint
COMMENT ON COLUMN bi.messages.direction IS 'inbound (from a client) or outbound (from the team).';
--> statement-breakpoint
COMMENT ON COLUMN bi.messages.from_address IS 'Sender address.';
--> statement-breakpoint
COMMENT ON COLUMN bi.messages.to_addresses IS 'Recipients.';
--> statement-breakpoint
COMMENT ON COLUMN bi.messages.cc_addresses IS 'Copied recipients.';
--> statement-breakpoint
COMMENT ON COLUMN bi.messages.sent_at IS 'When it was sent.';
--> statement-breakpoint
COMMENT ON COLUMN bi.messages.subject IS 'Subject line.';
--> statement-breakpoint
COMMENT ON COLUMN bi.messages.ingested_at IS 'When the hub first read it.';
--> statement-breakpoint
COMMENT ON COLUMN bi.messages.updated_at IS 'When the hub last saw it change.';
--> statement-breakpoint
CREATE VIEW bi.tasks WITH (security_barrier) AS
  SELECT
    f.source_record_id AS id,
    f.workspace_id AS workspace_id,
    f.connection_id AS connection_id,
    f.external_id AS external_id,
    pc.customer_id AS customer_id,
    f.title AS title,
    f.owner AS owner,
    f.status AS status,
    f.due_at AS due_at,
    f.completed_at AS completed_at,
    f.ingested_at AS ingested_at,
    f.updated_at AS updated_at
  FROM canonical.tasks f left join lateral (
    select cl.customer_id from canonical.source_people sp join canonical.customer_links cl on cl.source_record_id = sp.source_record_id
    where sp.workspace_id = f.workspace_id and sp.connection_id = f.connection_id and sp.external_id = f.customer_ref and sp.deleted_at is null
    order by sp.source_record_id limit 1) pc on true
  WHERE f.workspace_id in (select v.workspace_id from hub.bi_visible_workspaces v) AND f.deleted_at is null;
--> statement-breakpoint
COMMENT ON VIEW bi.tasks IS 'Tasks (deleted ones excluded).';
--> statement-breakpoint
COMMENT ON COLUMN bi.tasks.id IS 'The fact''s id: the source record it came from (stable across syncs).';
--> statement-breakpoint
COMMENT ON COLUMN bi.tasks.workspace_id IS 'The workspace (one business).';
--> statement-breakpoint
COMMENT ON COLUMN bi.tasks.connection_id IS 'The connection (source) it came from: bi.connections.id.';
--> statement-breakpoint
COMMENT ON COLUMN bi.tasks.external_id IS 'The record''s id in its source.';
--> statement-breakpoint
COMMENT ON COLUMN bi.tasks.customer_id IS 'The golden customer (bi.customers.id) of the person the source names as the client; null when not known.';
--> statement-breakpoint
COMMENT ON COLUMN bi.tasks.title IS 'Title.';
--> statement-breakpoint
COMMENT ON COLUMN bi.tasks.owner IS 'Team member who owns it.';
--> statement-breakpoint
COMMENT ON COLUMN bi.tasks.status IS 'open, completed or canceled.';
--> statement-breakpoint
COMMENT ON COLUMN bi.tasks.due_at IS 'When it is due.';
--> statement-breakpoint
COMMENT ON COLUMN bi.tasks.completed_at IS 'When it was completed.';
--> statement-breakpoint
COMMENT ON COLUMN bi.tasks.ingested_at IS 'When the hub first read it.';
--> statement-breakpoint
COMMENT ON COLUMN bi.tasks.updated_at IS 'When the hub last saw it change.';
--> statement-breakpoint
CREATE VIEW bi.satisfaction_responses WITH (security_barrier) AS
  SELECT
    f.source_record_id AS id,
    f.workspace_id AS workspace_id,
    f.connection_id AS connection_id,
    f.external_id AS external_id,
    pc.customer_id AS customer_id,
    f.score AS score,
    f.scale AS scale,
    f.answered_at AS answered_at,
    f.ingested_at AS ingested_at,
    f.updated_at AS updated_at
  FROM canonical.satisfaction_responses f left join lateral (
    select cl.customer_id from canonical.source_people sp join canonical.customer_links cl on cl.source_record_id = sp.source_record_id
    where sp.workspace_id = f.workspace_id and sp.connection_id = f.connection_id and sp.external_id = f.customer_ref and sp.deleted_at is null
    order by sp.source_record_id limit 1) pc on true
  WHERE f.workspace_id in (select v.workspace_id from hub.bi_visible_workspaces v) AND f.deleted_at is null;
--> statement-breakpoint
COMMENT ON VIEW bi.satisfaction_responses IS 'Satisfaction survey answers (deleted ones excluded).';
--> statement-breakpoint
COMMENT ON COLUMN bi.satisfaction_responses.id IS 'The fact''s id: the source record it came from (stable across syncs).';
--> statement-breakpoint
COMMENT ON COLUMN bi.satisfaction_responses.workspace_id IS 'The workspace (one business).';
--> statement-breakpoint
COMMENT ON COLUMN bi.satisfaction_responses.connection_id IS 'The connection (source) it came from: bi.connections.id.';
--> statement-breakpoint
COMMENT ON COLUMN bi.satisfaction_responses.external_id IS 'The record''s id in its source.';
--> statement-breakpoint
COMMENT ON COLUMN bi.satisfaction_responses.customer_id IS 'The golden customer (bi.customers.id) of the person the source names as the client; null when not known.';
--> statement-breakpoint
COMMENT ON COLUMN bi.satisfaction_responses.score IS 'The score given.';
--> statement-breakpoint
COMMENT ON COLUMN bi.satisfaction_responses.scale IS 'The top of the scale (e.g. 5 or 10).';
--> statement-breakpoint
COMMENT ON COLUMN bi.satisfaction_responses.answered_at IS 'When it was answered.';
--> statement-breakpoint
COMMENT ON COLUMN bi.satisfaction_responses.ingested_at IS 'When the hub first read it.';
--> statement-breakpoint
COMMENT ON COLUMN bi.satisfaction_responses.updated_at IS 'When the hub last saw it change.';
--> statement-breakpoint
CREATE VIEW bi.costs WITH (security_barrier) AS
  SELECT
    f.source_record_id AS id,
    f.workspace_id AS workspace_id,
    f.connection_id AS connection_id,
    f.external_id AS external_id,
    f.deal_ref AS deal_ref,
    f.amount AS amount,
    f.currency AS currency,
    f.incurred_at AS incurred_at,
    f.description AS description,
    f.ingested_at AS ingested_at,
    f.updated_at AS updated_at
  FROM canonical.costs f
  WHERE f.workspace_id in (select v.workspace_id from hub.bi_visible_workspaces v) AND f.deleted_at is null;
--> statement-breakpoint
COMMENT ON VIEW bi.costs IS 'Costs of jobs (deleted ones excluded).';
--> statement-breakpoint
COMMENT ON COLUMN bi.costs.id IS 'The fact''s id: the source record it came from (stable across syncs).';
--> statement-breakpoint
COMMENT ON COLUMN bi.costs.workspace_id IS 'The workspace (one business).';
--> statement-breakpoint
COMMENT ON COLUMN bi.costs.connection_id IS 'The connection (source) it came from: bi.connections.id.';
--> statement-breakpoint
COMMENT ON COLUMN bi.costs.external_id IS 'The record''s id in its source.';
--> statement-breakpoint
COMMENT ON COLUMN bi.costs.deal_ref IS 'The source''s id of the job the cost belongs to.';
--> statement-breakpoint
COMMENT ON COLUMN bi.costs.amount IS 'Amount, minor units.';
--> statement-breakpoint
COMMENT ON COLUMN bi.costs.currency IS 'ISO 4217 code.';
--> statement-breakpoint
COMMENT ON COLUMN bi.costs.incurred_at IS 'When it was incurred.';
--> statement-breakpoint
COMMENT ON COLUMN bi.costs.description IS 'What it was.';
--> statement-breakpoint
COMMENT ON COLUMN bi.costs.ingested_at IS 'When the hub first read it.';
--> statement-breakpoint
COMMENT ON COLUMN bi.costs.updated_at IS 'When the hub last saw it change.';
--> statement-breakpoint
CREATE VIEW bi.metric_rollups WITH (security_barrier) AS
  SELECT
    f.workspace_id AS workspace_id,
    f.metric AS metric,
    f.grain AS grain,
    f.period_start AS period_start,
    (f.period_start + ('1 ' || f.grain)::interval - interval '1 day')::date AS period_end,
    f.dimension AS dimension,
    f.dimension_value AS dimension_value,
    f.currency AS currency,
    f.value AS value,
    f.count AS count,
    (f.inputs->>'p50')::float8 AS p50,
    (f.inputs->>'p90')::float8 AS p90,
    (f.inputs->>'mean')::float8 AS mean,
    (f.inputs->>'numerator')::float8 AS numerator,
    (f.inputs->>'denominator')::float8 AS denominator,
    (f.inputs->>'sum')::float8 AS sum,
    f.updated_at AS updated_at
  FROM canonical.metric_rollups f
  WHERE f.workspace_id in (select v.workspace_id from hub.bi_visible_workspaces v);
--> statement-breakpoint
COMMENT ON VIEW bi.metric_rollups IS 'Metric rollups: one row per metric, grain, period, dimension value and currency. Definitions: docs/metrics.md.';
--> statement-breakpoint
COMMENT ON COLUMN bi.metric_rollups.workspace_id IS 'The workspace.';
--> statement-breakpoint
COMMENT ON COLUMN bi.metric_rollups.metric IS 'Metric name (docs/metrics.md).';
--> statement-breakpoint
COMMENT ON COLUMN bi.metric_rollups.grain IS 'day, week (ISO, Monday first) or month.';
--> statement-breakpoint
COMMENT ON COLUMN bi.metric_rollups.period_start IS 'First local day of the period, in the workspace''s time zone.';
--> statement-breakpoint
COMMENT ON COLUMN bi.metric_rollups.period_end IS 'Last local day of the period.';
--> statement-breakpoint
COMMENT ON COLUMN bi.metric_rollups.dimension IS 'workspace, owner, customer or connection.';
--> statement-breakpoint
COMMENT ON COLUMN bi.metric_rollups.dimension_value IS 'The owner''s name, golden customer id or connection id; '''' for the workspace (and for no owner).';
--> statement-breakpoint
COMMENT ON COLUMN bi.metric_rollups.currency IS 'ISO 4217 code for amounts; '''' otherwise. Amounts are never summed across currencies.';
--> statement-breakpoint
COMMENT ON COLUMN bi.metric_rollups.value IS 'The metric''s value (the median for durations).';
--> statement-breakpoint
COMMENT ON COLUMN bi.metric_rollups.count IS 'How many facts or customers it is computed from.';
--> statement-breakpoint
COMMENT ON COLUMN bi.metric_rollups.p50 IS 'Durations: median.';
--> statement-breakpoint
COMMENT ON COLUMN bi.metric_rollups.p90 IS 'Durations: 90th percentile.';
--> statement-breakpoint
COMMENT ON COLUMN bi.metric_rollups.mean IS 'Durations: mean.';
--> statement-breakpoint
COMMENT ON COLUMN bi.metric_rollups.numerator IS 'Ratios: numerator.';
--> statement-breakpoint
COMMENT ON COLUMN bi.metric_rollups.denominator IS 'Ratios: denominator.';
--> statement-breakpoint
COMMENT ON COLUMN bi.metric_rollups.sum IS 'Sums behind the value, where the metric has one.';
--> statement-breakpoint
COMMENT ON COLUMN bi.metric_rollups.updated_at IS 'When this row last changed.';
