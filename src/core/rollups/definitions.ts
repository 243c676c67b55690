// The metric pack: one definition per metric. The SQL that computes each family of metrics
// is in families.ts; this is what the API (/v1/metrics/definitions) and docs/metrics.md say
// about them, and what /v1/metrics validates against.

export type Family = 'payments' | 'invoices' | 'invoices_due' | 'deals_closed' | 'deals_open' | 'tasks' | 'messages' | 'satisfaction' | 'costs' | 'customers' | 'derived';
export type Dimension = 'workspace' | 'owner' | 'customer' | 'connection';

export interface MetricDefinition {
  name: string;
  family: Family;
  /** What `value` is, in one line. */
  value: string;
  unit: 'minor_units' | 'count' | 'ratio' | 'seconds' | 'hours' | 'days' | 'share';
  /** Kept per currency (never summed across currencies). */
  perCurrency: boolean;
  dimensions: Dimension[];
  /** The exact definition and its edge cases. */
  definition: string;
}

const ALL: Dimension[] = ['workspace', 'owner', 'customer', 'connection'];

export const METRICS: MetricDefinition[] = [
  {
    name: 'revenue', family: 'payments', unit: 'minor_units', perCurrency: true, dimensions: ALL,
    value: 'sum of payments net of refunds',
    definition: 'Sum of amount − refunded_amount of the payments paid in the period (paid_at, local time), per currency; count = payments. A refund is netted against the payment it refunds, in the payment\'s period (sources give the refunded amount, not always its date), so a refund made later restates the earlier period, which is recomputed when the refund arrives. Owner is the golden customer\'s owner; payments whose customer is not resolved count for the workspace and their connection only.',
  },
  {
    name: 'paid_invoices', family: 'invoices', unit: 'count', perCurrency: true, dimensions: ALL,
    value: 'invoices paid in the period',
    definition: 'Invoices with paid_at in the period and status other than void, per invoice currency; inputs.sum = their amount_paid.',
  },
  {
    name: 'average_check', family: 'derived', unit: 'minor_units', perCurrency: true, dimensions: ALL,
    value: 'revenue / paid invoices',
    definition: 'revenue ÷ paid_invoices of the same period, dimension and currency (inputs.numerator, inputs.denominator). An invoice paid in another currency than its payments counts in its own currency: each currency\'s check uses only that currency. No row when no invoice was paid.',
  },
  {
    name: 'average_deal_amount', family: 'deals_closed', unit: 'minor_units', perCurrency: true, dimensions: ALL,
    value: 'mean amount of won or completed jobs',
    definition: 'Mean amount of the deals/jobs that closed as won or completed in the period (closed_at), per currency; inputs.sum and count.',
  },
  {
    name: 'purchase_frequency', family: 'invoices', unit: 'ratio', perCurrency: false, dimensions: ['workspace', 'owner', 'connection'],
    value: 'paid invoices per paying customer',
    definition: 'Paid invoices (paid_at in the period) whose golden customer is known ÷ distinct such customers. Golden customers, so one client in three sources counts once.',
  },
  {
    name: 'active_customers', family: 'customers', unit: 'count', perCurrency: false, dimensions: ['workspace', 'owner'],
    value: 'golden customers who paid in the period',
    definition: 'Distinct golden customers with a payment (net of refunds > 0) in the period. A merge of two customers makes them one; a split makes them two again.',
  },
  {
    name: 'new_customers', family: 'customers', unit: 'count', perCurrency: false, dimensions: ['workspace', 'owner'],
    value: 'active customers whose first payment ever is in the period',
    definition: 'Active customers whose earliest payment (any source record of the golden customer) falls in the period.',
  },
  {
    name: 'returning_customers', family: 'customers', unit: 'count', perCurrency: false, dimensions: ['workspace', 'owner'],
    value: 'active customers who also paid in an earlier period',
    definition: 'active_customers − new_customers: paid this period and in an earlier one.',
  },
  {
    name: 'retention_rate', family: 'customers', unit: 'share', perCurrency: false, dimensions: ['workspace', 'owner'],
    value: 'share of last period\'s paying customers who paid again',
    definition: 'Customers active in both the previous period and this one ÷ customers active in the previous period (inputs.numerator, inputs.denominator); null when nobody paid in the previous period.',
  },
  {
    name: 'first_response_time', family: 'messages', unit: 'seconds', perCurrency: false, dimensions: ['workspace', 'connection'],
    value: 'median time from a client\'s first mail in a thread to our first reply',
    definition: 'Per thread: from its first inbound message to the first outbound message after it (a thread that starts with our own mail is measured from the client\'s first reply). value = p50; inputs.p90, inputs.mean. In business hours when the workspace sets them (only time inside the hours counts), calendar time otherwise. Attributed to the period of the inbound message; unanswered threads are not in it.',
  },
  {
    name: 'unanswered_threads', family: 'messages', unit: 'count', perCurrency: false, dimensions: ['workspace', 'connection'],
    value: 'threads whose first inbound message has no reply yet',
    definition: 'Threads whose first inbound message (in the period) has no outbound message after it.',
  },
  {
    name: 'job_turnaround_time', family: 'deals_closed', unit: 'hours', perCurrency: false, dimensions: ALL,
    value: 'median hours from a job\'s creation to its completion',
    definition: 'created_at → closed_at of deals/jobs closed as won or completed in the period; value = p50, inputs.p90 and mean. A reopened job has no closed_at until it closes again, and then counts once, from creation to its last close.',
  },
  {
    name: 'closed_jobs', family: 'deals_closed', unit: 'count', perCurrency: false, dimensions: ALL,
    value: 'jobs closed in the period (won, completed or lost)', definition: 'Deals/jobs with closed_at in the period and status won, completed or lost.',
  },
  {
    name: 'completed_jobs', family: 'deals_closed', unit: 'count', perCurrency: false, dimensions: ALL,
    value: 'jobs closed as won or completed', definition: 'Deals/jobs with closed_at in the period and status won or completed.',
  },
  {
    name: 'completion_rate', family: 'deals_closed', unit: 'share', perCurrency: false, dimensions: ALL,
    value: 'completed jobs / closed jobs', definition: 'completed_jobs ÷ closed_jobs of the period (inputs.numerator, inputs.denominator).',
  },
  {
    name: 'tasks_due', family: 'tasks', unit: 'count', perCurrency: false, dimensions: ALL,
    value: 'tasks due in the period', definition: 'Tasks with due_at in the period, canceled ones excluded.',
  },
  {
    name: 'tasks_completed_on_time', family: 'tasks', unit: 'count', perCurrency: false, dimensions: ALL,
    value: 'tasks due in the period and completed by their due time', definition: 'Tasks due in the period with completed_at ≤ due_at.',
  },
  {
    name: 'task_completion_rate', family: 'tasks', unit: 'share', perCurrency: false, dimensions: ALL,
    value: 'tasks completed by their due date / tasks due', definition: 'tasks_completed_on_time ÷ tasks_due (inputs.numerator, inputs.denominator).',
  },
  {
    name: 'ownerless_open_tasks', family: 'tasks', unit: 'count', perCurrency: false, dimensions: ['workspace', 'customer', 'connection'],
    value: 'open tasks with no owner, by due date', definition: 'Tasks still open with no owner, counted in the period of their due date (tasks with no due date are not counted).',
  },
  {
    name: 'ownerless_open_deals', family: 'deals_open', unit: 'count', perCurrency: false, dimensions: ['workspace', 'customer', 'connection'],
    value: 'open deals/jobs with no owner, by creation date', definition: 'Deals/jobs still open (status open or unknown) with no owner, counted in the period they were created.',
  },
  {
    name: 'overdue_invoices', family: 'invoices_due', unit: 'count', perCurrency: true, dimensions: ALL,
    value: 'unpaid invoices past their due date, by due date',
    definition: 'Invoices with due_at in the period and before now, not paid, void or draft; inputs.amount = Σ(amount_due − amount_paid), per currency. It is a current state: an invoice leaves it when paid. The periods whose due dates pass are recomputed as time goes by (every minute).',
  },
  {
    name: 'days_to_pay', family: 'invoices', unit: 'days', perCurrency: false, dimensions: ALL,
    value: 'median days from issue to payment', definition: 'issued_at → paid_at of invoices paid in the period, in days; value = p50, inputs.p90 and mean.',
  },
  {
    name: 'costs', family: 'costs', unit: 'minor_units', perCurrency: true, dimensions: ['workspace', 'connection'],
    value: 'sum of costs incurred in the period', definition: 'Sum of cost amounts with incurred_at in the period, per currency.',
  },
  {
    name: 'cost_per_job', family: 'derived', unit: 'minor_units', perCurrency: true, dimensions: ['workspace', 'connection'],
    value: 'costs / completed jobs', definition: 'costs ÷ completed_jobs of the same period and dimension, per cost currency; no row when no job was completed.',
  },
  {
    name: 'csat', family: 'satisfaction', unit: 'share', perCurrency: false, dimensions: ALL,
    value: 'mean satisfaction score as a share of its scale',
    definition: 'Mean of score ÷ scale (a score with no scale is read on a 1–5 scale) of the responses answered in the period; count = responses; inputs.mean_score = mean raw score.',
  },
];

export const METRIC_NAMES = METRICS.map((metric) => metric.name) as [string, ...string[]];
export const metricsOf = (family: Family) => METRICS.filter((metric) => metric.family === family).map((metric) => metric.name);
export const definitionOf = (name: string) => METRICS.find((metric) => metric.name === name);
