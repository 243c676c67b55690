import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, numeric, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';

// Canonical facts as each source states them, one row per source record and kind.
// People and organizations as sources state them are source_people / source_organizations;
// the golden customers and organizations built from them (reconciliation) link to them by source_record_id.
export const canonical = pgSchema('canonical');

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Columns every fact carries: tenant, attribution to its source record, tombstone. */
const attribution = () => ({
  // A fact is one kind stated by one source record: the record's id is the fact's key.
  // (No separate uuid: one index less on the hottest write path; golden records link by it.)
  sourceRecordId: bigint('source_record_id', { mode: 'number' }).primaryKey(),
  workspaceId: uuid('workspace_id').notNull(),
  connectionId: uuid('connection_id').notNull(),
  externalId: text('external_id').notNull(),
  ingestedAt: at('ingested_at').notNull().defaultNow(),
  updatedAt: at('updated_at').notNull().defaultNow(),
  deletedAt: at('deleted_at'),
});

const factIndexes = (name: string) => (t: { workspaceId: any; connectionId: any; externalId: any }) => [
  index(`${name}_workspace_connection_external_idx`).on(t.workspaceId, t.connectionId, t.externalId),
];

const money = (name: string) => bigint(name, { mode: 'number' });

export const people = canonical.table('source_people', {
  ...attribution(),
  name: text('name'),
  firstName: text('first_name'),
  lastName: text('last_name'),
  emails: text('emails').array().notNull().default(sql`'{}'::text[]`),
  phones: text('phones').array().notNull().default(sql`'{}'::text[]`),
  organizationName: text('organization_name'),
  owner: text('owner'),
  /** YYYY-MM-DD when the source's date reads as a real date, else the text as written (kept for matching, never dropped). */
  birthDate: text('birth_date'),
  address: text('address'),
  city: text('city'),
  postalCode: text('postal_code'),
  nationalId: text('national_id'),
  attributes: jsonb('attributes').notNull().default({}),
}, factIndexes('source_people'));

export const sourceOrganizations = canonical.table('source_organizations', {
  ...attribution(),
  name: text('name'),
  domains: text('domains').array().notNull().default(sql`'{}'::text[]`),
  phones: text('phones').array().notNull().default(sql`'{}'::text[]`),
  taxId: text('tax_id'),
}, factIndexes('source_organizations'));

export const deals = canonical.table('deals', {
  ...attribution(),
  title: text('title'),
  customerRef: text('customer_ref'),
  owner: text('owner'),
  stage: text('stage'),
  status: text('status', { enum: ['open', 'won', 'lost', 'completed'] }),
  amount: money('amount'),
  currency: text('currency'),
  createdAt: at('created_at'),
  closedAt: at('closed_at'),
  dueAt: at('due_at'),
}, (t) => [...factIndexes('deals')(t), index('deals_created_at_idx').on(t.workspaceId, t.createdAt), index('deals_closed_at_idx').on(t.workspaceId, t.closedAt)]);

export const invoices = canonical.table('invoices', {
  ...attribution(),
  number: text('number'),
  customerRef: text('customer_ref'),
  status: text('status', { enum: ['draft', 'open', 'paid', 'void', 'uncollectible'] }),
  amountDue: money('amount_due'),
  amountPaid: money('amount_paid'),
  currency: text('currency'),
  issuedAt: at('issued_at'),
  dueAt: at('due_at'),
  paidAt: at('paid_at'),
}, (t) => [...factIndexes('invoices')(t), index('invoices_paid_at_idx').on(t.workspaceId, t.paidAt), index('invoices_due_at_idx').on(t.workspaceId, t.dueAt)]);

export const payments = canonical.table('payments', {
  ...attribution(),
  customerRef: text('customer_ref'),
  invoiceRef: text('invoice_ref'),
  amount: money('amount'),
  currency: text('currency'),
  paidAt: at('paid_at'),
  refundedAmount: money('refunded_amount').notNull().default(0),
}, (t) => [...factIndexes('payments')(t), index('payments_paid_at_idx').on(t.workspaceId, t.paidAt), index('payments_customer_idx').on(t.workspaceId, t.connectionId, t.customerRef, t.paidAt)]);

export const messages = canonical.table('messages', {
  ...attribution(),
  threadRef: text('thread_ref'),
  direction: text('direction', { enum: ['inbound', 'outbound'] }),
  fromAddress: text('from_address'),
  toAddresses: text('to_addresses').array().notNull().default(sql`'{}'::text[]`),
  ccAddresses: text('cc_addresses').array().notNull().default(sql`'{}'::text[]`),
  sentAt: at('sent_at'),
  subject: text('subject'),
}, (t) => [...factIndexes('messages')(t), index('messages_sent_at_idx').on(t.workspaceId, t.sentAt), index('messages_thread_idx').on(t.workspaceId, t.connectionId, t.threadRef)]);

export const tasks = canonical.table('tasks', {
  ...attribution(),
  title: text('title'),
  owner: text('owner'),
  status: text('status', { enum: ['open', 'completed', 'canceled'] }),
  customerRef: text('customer_ref'),
  dueAt: at('due_at'),
  completedAt: at('completed_at'),
}, (t) => [...factIndexes('tasks')(t), index('tasks_due_at_idx').on(t.workspaceId, t.dueAt)]);

export const satisfactionResponses = canonical.table('satisfaction_responses', {
  ...attribution(),
  customerRef: text('customer_ref'),
  score: numeric('score'),
  scale: numeric('scale'),
  answeredAt: at('answered_at'),
}, (t) => [...factIndexes('satisfaction_responses')(t), index('satisfaction_responses_answered_at_idx').on(t.workspaceId, t.answeredAt)]);

export const costs = canonical.table('costs', {
  ...attribution(),
  dealRef: text('deal_ref'),
  amount: money('amount'),
  currency: text('currency'),
  incurredAt: at('incurred_at'),
  description: text('description'),
}, (t) => [...factIndexes('costs')(t), index('costs_incurred_at_idx').on(t.workspaceId, t.incurredAt)]);

/** Fact tables by the kind name connectors emit. */
export const factTables = {
  person: people,
  organization: sourceOrganizations,
  deal: deals,
  invoice: invoices,
  payment: payments,
  message: messages,
  task: tasks,
  satisfaction_response: satisfactionResponses,
  cost: costs,
} as const;

export type FactKind = keyof typeof factTables;
