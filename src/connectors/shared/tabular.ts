import { z } from 'zod';
import { HubError, RecordError, type Fact } from '../../core/ingest/index.js';
import { parseAmount, parseCurrency, parseDate, parseEmails, parsePhones, ValueError, type DateOrder } from './values.js';

// Rows of a spreadsheet (CSV, XLSX, Google Sheets) to canonical facts, through a
// column mapping: header → canonical field. The same mapping serves every tabular source.

/** Canonical fields a column can map to, with the headers that suggest them (compared normalised). */
export const tabularFields = {
  'person.name': { description: 'Full name of the client', headers: ['name', 'full name', 'client', 'client name', 'customer', 'customer name', 'contact', 'contact name', 'имя', 'фио', 'клиент', 'заказчик', 'контакт', 'имя клиента'] },
  'person.first_name': { description: 'Given name', headers: ['first name', 'firstname', 'given name', 'имя отчество'] },
  'person.last_name': { description: 'Family name', headers: ['last name', 'lastname', 'surname', 'family name', 'фамилия'] },
  'person.email': { description: 'Email address(es), separated by , or ;', headers: ['email', 'e mail', 'email address', 'mail', 'почта', 'эл почта', 'электронная почта', 'емейл', 'имейл'] },
  'person.phone': { description: 'Phone number(s), as written', headers: ['phone', 'phone number', 'telephone', 'tel', 'mobile', 'cell', 'телефон', 'тел', 'мобильный', 'номер телефона'] },
  'person.company': { description: 'Company the client works for', headers: ['company', 'organization', 'organisation', 'company name', 'компания', 'организация', 'фирма'] },
  'person.birth_date': { description: 'Date of birth', headers: ['date of birth', 'dob', 'birth date', 'birthday', 'born', 'дата рождения', 'день рождения', 'др'] },
  'person.address': { description: 'Street address (several columns mapped here are joined)', headers: ['address', 'street', 'street address', 'address 1', 'address line 1', 'адрес', 'улица'] },
  'person.city': { description: 'City or town', headers: ['city', 'town', 'suburb', 'locality', 'город', 'населенный пункт'] },
  'person.postal_code': { description: 'Postal code', headers: ['postcode', 'postal code', 'zip', 'zip code', 'индекс', 'почтовый индекс'] },
  'person.national_id': { description: 'Tax or national id (INN, SSN, passport)', headers: ['national id', 'tax id', 'ssn', 'inn', 'passport', 'инн', 'снилс', 'паспорт'] },
  'person.owner': { description: 'Team member who owns the client or job', headers: ['owner', 'manager', 'responsible', 'assignee', 'менеджер', 'ответственный', 'исполнитель'] },
  'deal.title': { description: 'Job, project or service', headers: ['job', 'deal', 'project', 'title', 'service', 'order', 'заказ', 'работа', 'услуга', 'сделка', 'проект'] },
  'deal.amount': { description: 'Amount of the job, in the currency', headers: ['amount', 'sum', 'total', 'price', 'value', 'сумма', 'стоимость', 'цена', 'итого'] },
  'deal.currency': { description: 'ISO 4217 code; default_currency otherwise', headers: ['currency', 'валюта'] },
  'deal.status': { description: 'open, won, lost or completed (common synonyms accepted)', headers: ['status', 'state', 'статус', 'состояние'] },
  'deal.stage': { description: 'Pipeline stage, as written', headers: ['stage', 'pipeline stage', 'этап', 'стадия'] },
  'deal.created_at': { description: 'When the job was created', headers: ['date', 'created', 'created at', 'creation date', 'дата', 'дата создания', 'создано'] },
  'deal.closed_at': { description: 'When the job was closed or completed', headers: ['closed', 'closed at', 'completed', 'completed at', 'done at', 'дата закрытия', 'дата завершения', 'завершено'] },
  'deal.due_at': { description: 'When the job is due', headers: ['due', 'due date', 'deadline', 'срок', 'дедлайн'] },
} as const;

export type TabularField = keyof typeof tabularFields;
export const tabularFieldNames = Object.keys(tabularFields) as [TabularField, ...TabularField[]];


export const tabularMappingSchema = {
  key_column: z.string().min(1).optional().describe('Header of the column that identifies a row across syncs (suggested from the headers when absent: an id column, else email, else phone, else name).'),
  columns: z.record(z.string(), z.enum(tabularFieldNames)).optional().describe('Header → canonical field. When absent, the mapping is suggested from the headers and shown on the run.'),
  default_currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD or RUB').default('USD'),
  date_order: z.enum(['DMY', 'MDY', 'YMD']).default('DMY').describe('How to read dates like 03/04/2024 (dotted dates are always day first).'),
  distinct_records: z.boolean().optional().describe('Every row is a different client (a CRM export, a billing system\'s customer list): reconciliation never merges two rows of this source on its own; an admin still can.'),
};

export interface TabularMapping {
  keyColumn: string;
  columns: Record<string, TabularField>;
  defaultCurrency: string;
  dateOrder: DateOrder;
  suggested: boolean;
}

export function normaliseHeader(header: string): string {
  return header.normalize('NFKC').toLowerCase().replace(/ё/g, 'е').replace(/[^\p{L}\p{N}#№]+/gu, ' ').trim();
}

const KEY_HEADERS = ['id', 'external id', 'client id', 'customer id', 'key', '№', '#', 'номер', 'код', 'id клиента'].map(normaliseHeader);

const headerIndex = new Map<string, TabularField>();
for (const [field, spec] of Object.entries(tabularFields)) for (const header of spec.headers) headerIndex.set(normaliseHeader(header), field as TabularField);

export function isKnownHeader(header: string): boolean {
  const normalised = normaliseHeader(header);
  return headerIndex.has(normalised) || KEY_HEADERS.includes(normalised);
}

/** The mapping to use: the configured one, or one suggested from the headers. */
export function resolveMapping(headers: string[], config: { key_column?: string; columns?: Record<string, TabularField>; default_currency: string; date_order: DateOrder }): TabularMapping {
  const columns: Record<string, TabularField> = config.columns ?? suggestColumns(headers);
  for (const header of Object.keys(columns)) {
    if (!headers.includes(header)) throw mappingError(`The mapping names column "${header}", which the file does not have (columns: ${headers.join(', ')}).`);
  }
  const keyColumn = config.key_column ?? suggestKey(headers, columns);
  if (!keyColumn) throw mappingError(`No column identifies a row: set key_column to one of ${headers.join(', ')}.`);
  if (!headers.includes(keyColumn)) throw mappingError(`key_column "${keyColumn}" is not a column of the file (columns: ${headers.join(', ')}).`);
  return { keyColumn, columns, defaultCurrency: config.default_currency, dateOrder: config.date_order, suggested: !config.columns };
}

const mappingError = (message: string) => new HubError('mapping_invalid', 400, message);

function suggestColumns(headers: string[]): Record<string, TabularField> {
  const columns: Record<string, TabularField> = {};
  const taken = new Set<TabularField>();
  for (const header of headers) {
    const field = headerIndex.get(normaliseHeader(header));
    if (field && !taken.has(field)) {
      columns[header] = field;
      taken.add(field);
    }
  }
  // "Имя" beside "Фамилия" (Name beside Surname) is the given name, not the full name.
  const nameHeader = Object.keys(columns).find((header) => columns[header] === 'person.name');
  if (nameHeader && taken.has('person.last_name') && !taken.has('person.first_name')) columns[nameHeader] = 'person.first_name';
  return columns;
}

function suggestKey(headers: string[], columns: Record<string, TabularField>): string | undefined {
  const byField = (field: TabularField) => Object.entries(columns).find(([, mapped]) => mapped === field)?.[0];
  return headers.find((header) => KEY_HEADERS.includes(normaliseHeader(header))) ?? byField('person.email') ?? byField('person.phone') ?? byField('person.name');
}

type DealStatus = 'open' | 'won' | 'lost' | 'completed';
const DEAL_STATUS: Record<string, DealStatus> = {};
for (const [status, words] of Object.entries({
  open: ['open', 'new', 'in progress', 'active', 'pending', 'открыт', 'открыта', 'новый', 'новая', 'в работе', 'в процессе', 'активна'],
  won: ['won', 'closed won', 'paid', 'выиграна', 'успешно', 'оплачено', 'оплачен'],
  lost: ['lost', 'closed lost', 'cancelled', 'canceled', 'rejected', 'проиграна', 'отказ', 'отменен', 'отменена', 'отменено'],
  completed: ['completed', 'complete', 'done', 'finished', 'closed', 'выполнено', 'выполнен', 'завершено', 'завершен', 'готово', 'сделано', 'закрыт', 'закрыта'],
})) for (const word of words) DEAL_STATUS[normaliseHeader(word)] = status as 'open';

/** One row → the facts it states (a person, their company, a job). Throws RecordError naming the bad column. */
export function mapTabularRow(row: Record<string, string>, mapping: TabularMapping): Fact[] {
  const values: Partial<Record<TabularField, string>> = {};
  for (const [header, field] of columnsOf(mapping)) {
    const value = row[header]?.trim();
    // Several columns mapped to one field (street number + street) are joined in column order.
    if (value) values[field] = values[field] === undefined ? value : `${values[field]} ${value}`;
  }
  const key = row[mapping.keyColumn]?.trim() ?? '';
  const facts: Fact[] = [];

  const firstName = values['person.first_name'];
  const lastName = values['person.last_name'];
  const name = values['person.name'] ?? ([firstName, lastName].filter(Boolean).join(' ') || undefined);
  const emails = read(values, mapping, 'person.email', parseEmails, undefined) ?? [];
  const phones = read(values, mapping, 'person.phone', parsePhones, undefined) ?? [];
  if (name || emails.length > 0 || phones.length > 0) {
    facts.push({
      kind: 'person',
      fields: {
        name: name ?? null, first_name: firstName ?? null, last_name: lastName ?? null, emails, phones,
        organization_name: values['person.company'] ?? null, owner: values['person.owner'] ?? null,
        birth_date: values['person.birth_date'] === undefined ? null : birthDate(values['person.birth_date'], mapping.dateOrder),
        address: values['person.address'] ?? null, city: values['person.city'] ?? null,
        postal_code: values['person.postal_code'] ?? null, national_id: values['person.national_id'] ?? null,
      },
    });
  }
  if (values['person.company']) facts.push({ kind: 'organization', fields: { name: values['person.company'] } });

  if (DEAL_FIELDS.some((field) => values[field] !== undefined)) {
    const configuredCurrency = read(values, mapping, 'deal.currency', parseCurrency, undefined);
    const amount = read(values, mapping, 'deal.amount', parseAmount, configuredCurrency ?? mapping.defaultCurrency);
    const status = read(values, mapping, 'deal.status', parseStatus, undefined);
    facts.push({
      kind: 'deal',
      fields: {
        title: values['deal.title'] ?? null,
        customer_ref: key,
        owner: values['person.owner'] ?? null,
        stage: values['deal.stage'] ?? null,
        status: status ?? null,
        amount: amount?.minor ?? null,
        currency: amount ? configuredCurrency ?? amount.currency ?? mapping.defaultCurrency : configuredCurrency ?? null,
        created_at: read(values, mapping, 'deal.created_at', parseDate, mapping.dateOrder) ?? null,
        closed_at: read(values, mapping, 'deal.closed_at', parseDate, mapping.dateOrder) ?? null,
        due_at: read(values, mapping, 'deal.due_at', parseDate, mapping.dateOrder) ?? null,
      },
    });
  }
  if (facts.length === 0) throw new RecordError('The row states nothing we can map: no name, email, phone or job fields.');
  return facts;
}

const DEAL_FIELDS: TabularField[] = ['deal.title', 'deal.amount', 'deal.status', 'deal.stage', 'deal.created_at', 'deal.closed_at', 'deal.due_at'];

// Hot path (once per row): the mapping's column list is built once per mapping, not per row.
const columnLists = new WeakMap<TabularMapping, [string, TabularField][]>();
function columnsOf(mapping: TabularMapping): [string, TabularField][] {
  let list = columnLists.get(mapping);
  if (!list) columnLists.set(mapping, (list = Object.entries(mapping.columns)));
  return list;
}

/** Parses one mapped value; a ValueError becomes the RecordError that quarantines the row, naming the column. */
function read<T, O>(values: Partial<Record<TabularField, string>>, mapping: TabularMapping, field: TabularField, parse: (value: string, option: O) => T, option: O): T | undefined {
  const value = values[field];
  if (value === undefined) return undefined;
  try {
    return parse(value, option);
  } catch (error) {
    if (error instanceof ValueError) throw new RecordError(`Column "${headerOf(mapping, field)}": ${error.message}.`, { column: headerOf(mapping, field), field, value });
    throw error;
  }
}

// A column holds few distinct statuses: each is normalised once (bounded, in case a column is free text).
const statusCache = new Map<string, DealStatus | undefined>();
function parseStatus(value: string): DealStatus {
  let known = statusCache.get(value);
  if (known === undefined && !statusCache.has(value)) {
    known = DEAL_STATUS[normaliseHeader(value)];
    if (statusCache.size >= 1000) statusCache.clear();
    statusCache.set(value, known);
  }
  if (!known) throw new ValueError(`"${value}" is not a status we know (use open, won, lost or completed)`);
  return known;
}

/** A birth date as YYYY-MM-DD when it reads as one (also YYYYMMDD), else the text as written: a typo in it must not reject the client. */
function birthDate(text: string, order: DateOrder): string {
  const compact = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  try {
    return (parseDate(compact ? `${compact[1]}-${compact[2]}-${compact[3]}` : text, order) ?? text).slice(0, 10);
  } catch (error) {
    if (error instanceof ValueError) return text;
    throw error;
  }
}

function headerOf(mapping: TabularMapping, field: TabularField): string {
  return Object.entries(mapping.columns).find(([, mapped]) => mapped === field)?.[0] ?? field;
}
