import { describe, expect, it } from 'vitest';
import { isKnownHeader, mapTabularRow, normaliseHeader, resolveMapping, type TabularMapping } from '../../src/connectors/shared/tabular.js';
import { HubError } from '../../src/core/errors.js';
import { RecordError } from '../../src/core/ingest/contract.js';

// Spreadsheet rows to canonical facts, through a column mapping suggested from the headers or configured.

const defaults = { default_currency: 'USD', date_order: 'DMY' as const };

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

const person = (fields: Record<string, unknown>) => ({
  kind: 'person',
  fields: { name: null, first_name: null, last_name: null, emails: [], phones: [], organization_name: null, owner: null, birth_date: null, address: null, city: null, postal_code: null, national_id: null, ...fields },
});

const deal = (fields: Record<string, unknown>) => ({
  kind: 'deal',
  fields: { title: null, customer_ref: '', owner: null, stage: null, status: null, amount: null, currency: null, created_at: null, closed_at: null, due_at: null, ...fields },
});

describe('normaliseHeader', () => {
  it("reads 'E-mail' as 'e mail'", () => {
    expect(normaliseHeader('E-mail')).toBe('e mail');
  });

  it('lower-cases, collapses punctuation and spaces, and trims', () => {
    expect(normaliseHeader('  Номер   телефона: ')).toBe('номер телефона');
    expect(normaliseHeader('Client_ID')).toBe('client id');
  });

  it("reads 'ё' as 'е'", () => {
    expect(normaliseHeader('Отменён')).toBe('отменен');
  });

  it("keeps '#'", () => {
    expect(normaliseHeader(' # ')).toBe('#');
  });
});

describe('isKnownHeader', () => {
  it('knows English and Russian headers whatever their case and punctuation', () => {
    expect(isKnownHeader('E-Mail')).toBe(true);
    expect(isKnownHeader('ТЕЛЕФОН')).toBe(true);
    expect(isKnownHeader('Дата создания')).toBe(true);
  });

  it('knows key headers', () => {
    expect(isKnownHeader('ID')).toBe(true);
    expect(isKnownHeader('Номер')).toBe(true);
    expect(isKnownHeader('#')).toBe(true);
  });

  it('does not know a client name', () => {
    expect(isKnownHeader('Anna Petrova')).toBe(false);
  });
});

describe('resolveMapping: a suggested mapping', () => {
  it('maps Russian headers to canonical fields', () => {
    const mapping = resolveMapping(['Номер', 'Имя', 'Телефон', 'Сумма', 'Статус'], { default_currency: 'RUB', date_order: 'DMY' });
    expect(mapping).toEqual({
      keyColumn: 'Номер',
      columns: { Имя: 'person.name', Телефон: 'person.phone', Сумма: 'deal.amount', Статус: 'deal.status' },
      defaultCurrency: 'RUB',
      dateOrder: 'DMY',
      suggested: true,
    });
  });

  it("maps 'Фамилия' to the last name and 'Имя отчество' to the given name", () => {
    const mapping = resolveMapping(['Фамилия', 'Имя отчество', 'Эл. почта'], defaults);
    expect(mapping.columns).toEqual({ Фамилия: 'person.last_name', 'Имя отчество': 'person.first_name', 'Эл. почта': 'person.email' });
  });

  it("maps an 'E-mail' header to the email field", () => {
    const mapping = resolveMapping(['Name', 'E-mail'], defaults);
    expect(mapping.columns).toEqual({ Name: 'person.name', 'E-mail': 'person.email' });
  });

  it('maps the first of two columns that suggest the same field, and leaves unknown columns out', () => {
    const mapping = resolveMapping(['Email', 'Mail', 'Notes'], defaults);
    expect(mapping.columns).toEqual({ Email: 'person.email' });
  });

  it('suggests an ID column as the key over an email column', () => {
    const mapping = resolveMapping(['Email', 'Name', 'Client ID'], defaults);
    expect(mapping.keyColumn).toBe('Client ID');
  });

  it('suggests the email column as the key when there is no ID column', () => {
    expect(resolveMapping(['Name', 'Phone', 'Email'], defaults).keyColumn).toBe('Email');
  });

  it('suggests the phone column as the key when there is no ID or email', () => {
    expect(resolveMapping(['Имя', 'Телефон'], defaults).keyColumn).toBe('Телефон');
  });

  it('suggests the name column as the key as a last resort', () => {
    expect(resolveMapping(['Клиент', 'Сумма'], defaults).keyColumn).toBe('Клиент');
  });

  it('fails when no column can identify a row, listing the columns', () => {
    const error = thrown(() => resolveMapping(['Сумма', 'Комментарий'], defaults));
    expect(error).toBeInstanceOf(HubError);
    expect(error).toMatchObject({ code: 'mapping_invalid', status: 400, message: 'No column identifies a row: set key_column to one of Сумма, Комментарий.' });
  });
});

describe('resolveMapping: a configured mapping', () => {
  it('uses the configured columns and key as given', () => {
    const mapping = resolveMapping(['Ref', 'Who', 'How much'], {
      key_column: 'Ref',
      columns: { Who: 'person.name', 'How much': 'deal.amount' },
      default_currency: 'EUR',
      date_order: 'MDY',
    });
    expect(mapping).toEqual({ keyColumn: 'Ref', columns: { Who: 'person.name', 'How much': 'deal.amount' }, defaultCurrency: 'EUR', dateOrder: 'MDY', suggested: false });
  });

  it('suggests the key from the configured columns when no key_column is set', () => {
    const mapping = resolveMapping(['Who', 'Contact email'], { columns: { Who: 'person.name', 'Contact email': 'person.email' }, ...defaults });
    expect(mapping.keyColumn).toBe('Contact email');
  });

  it("fails when it names a column the file does not have, listing the file's columns", () => {
    const error = thrown(() => resolveMapping(['Name', 'Email', 'Amount'], { columns: { Name: 'person.name', Client: 'person.company' }, ...defaults }));
    expect(error).toBeInstanceOf(HubError);
    expect(error).toMatchObject({
      code: 'mapping_invalid',
      status: 400,
      message: 'The mapping names column "Client", which the file does not have (columns: Name, Email, Amount).',
    });
  });

  it("fails when key_column is not a column of the file, listing the file's columns", () => {
    const error = thrown(() => resolveMapping(['Name', 'Email'], { key_column: 'ID', ...defaults }));
    expect(error).toBeInstanceOf(HubError);
    expect(error).toMatchObject({ code: 'mapping_invalid', message: 'key_column "ID" is not a column of the file (columns: Name, Email).' });
  });
});

describe('mapTabularRow', () => {
  const russian = resolveMapping(['Номер', 'Имя', 'Телефон', 'Сумма', 'Статус', 'Дата'], { default_currency: 'RUB', date_order: 'DMY' });

  it('maps a Russian row to a person and a deal keyed by the row', () => {
    const facts = mapTabularRow({ Номер: ' 17 ', Имя: 'Анна Петрова', Телефон: '+7 912 345-67-89; 8 800 555-35-35', Сумма: '15\u00a0000,50 ₽', Статус: 'В работе', Дата: '31.12.2024 14:30' }, russian);
    expect(facts).toEqual([
      person({ name: 'Анна Петрова', phones: ['+7 912 345-67-89', '8 800 555-35-35'] }),
      deal({ customer_ref: '17', status: 'open', amount: 1500050, currency: 'RUB', created_at: '2024-12-31T14:30:00.000Z' }),
    ]);
  });

  it("reads the status 'в работе' as open", () => {
    expect(mapTabularRow({ Номер: '1', Статус: 'в работе' }, russian)).toEqual([deal({ customer_ref: '1', status: 'open' })]);
  });

  it("reads the status 'готово' as completed", () => {
    expect(mapTabularRow({ Номер: '1', Статус: 'готово' }, russian)).toEqual([deal({ customer_ref: '1', status: 'completed' })]);
  });

  it("reads the status 'Отменён' (with ё) as lost", () => {
    expect(mapTabularRow({ Номер: '1', Статус: 'Отменён' }, russian)).toEqual([deal({ customer_ref: '1', status: 'lost' })]);
  });

  it("reads the status 'Paid' as won", () => {
    expect(mapTabularRow({ Номер: '1', Статус: 'Paid' }, russian)).toEqual([deal({ customer_ref: '1', status: 'won' })]);
  });

  it('rejects an unknown status with a RecordError naming the column and the value', () => {
    const error = thrown(() => mapTabularRow({ Номер: '1', Статус: 'когда-нибудь' }, russian));
    expect(error).toBeInstanceOf(RecordError);
    expect(error).toMatchObject({
      message: 'Column "Статус": "когда-нибудь" is not a status we know (use open, won, lost or completed).',
      details: { column: 'Статус', field: 'deal.status', value: 'когда-нибудь' },
    });
  });

  it('rejects a bad amount with a RecordError naming the column', () => {
    const error = thrown(() => mapTabularRow({ Номер: '1', Имя: 'Анна', Сумма: 'abc' }, russian));
    expect(error).toBeInstanceOf(RecordError);
    expect(error).toMatchObject({ message: 'Column "Сумма": "abc" is not an amount.', details: { column: 'Сумма', field: 'deal.amount', value: 'abc' } });
  });

  it('rejects a bad date with a RecordError naming the column', () => {
    const error = thrown(() => mapTabularRow({ Номер: '1', Дата: '30.02.2024' }, russian));
    expect(error).toBeInstanceOf(RecordError);
    expect((error as RecordError).message).toBe('Column "Дата": "30.02.2024" is not a real date.');
  });

  it('maps a row with only a job (title and amount) to a deal whose customer_ref is the row key', () => {
    const mapping = resolveMapping(['ID', 'Job', 'Amount'], defaults);
    expect(mapTabularRow({ ID: 'J-7', Job: 'Kitchen repair', Amount: '1,234.50' }, mapping)).toEqual([
      deal({ title: 'Kitchen repair', customer_ref: 'J-7', amount: 123450, currency: 'USD' }),
    ]);
  });

  it('composes the name from the first and last name columns', () => {
    const mapping = resolveMapping(['First name', 'Last name', 'E-mail'], defaults);
    expect(mapTabularRow({ 'First name': 'Anna', 'Last name': 'Smith', 'E-mail': 'Anna.Smith@Example.com' }, mapping)).toEqual([
      person({ name: 'Anna Smith', first_name: 'Anna', last_name: 'Smith', emails: ['anna.smith@example.com'] }),
    ]);
  });

  it('composes the name from a last name alone', () => {
    const mapping = resolveMapping(['ID', 'Фамилия'], defaults);
    expect(mapTabularRow({ ID: '3', Фамилия: 'Петрова' }, mapping)).toEqual([person({ name: 'Петрова', last_name: 'Петрова' })]);
  });

  it('lower-cases and de-duplicates the emails of a row', () => {
    const mapping = resolveMapping(['Email', 'Name'], defaults);
    expect(mapTabularRow({ Email: 'Anna@Example.com; anna@example.com, anna@work.example.com', Name: 'Anna' }, mapping)).toEqual([
      person({ name: 'Anna', emails: ['anna@example.com', 'anna@work.example.com'] }),
    ]);
  });

  it('rejects an invalid email with a RecordError naming the column and the value', () => {
    const mapping = resolveMapping(['E-mail', 'Name'], defaults);
    const error = thrown(() => mapTabularRow({ 'E-mail': 'anna(at)example.com', Name: 'Anna' }, mapping));
    expect(error).toBeInstanceOf(RecordError);
    expect(error).toMatchObject({
      message: 'Column "E-mail": "anna(at)example.com" is not an email address.',
      details: { column: 'E-mail', field: 'person.email', value: 'anna(at)example.com' },
    });
  });

  it('states the company as an organization and on the person', () => {
    const mapping = resolveMapping(['Email', 'Company', 'Manager'], defaults);
    expect(mapTabularRow({ Email: 'anna@acme.example', Company: 'Acme', Manager: 'Oleg' }, mapping)).toEqual([
      person({ emails: ['anna@acme.example'], organization_name: 'Acme', owner: 'Oleg' }),
      { kind: 'organization', fields: { name: 'Acme' } },
    ]);
  });

  it('reads the amount in the currency of the currency column (JPY: no decimals)', () => {
    const mapping = resolveMapping(['ID', 'Service', 'Price', 'Currency'], defaults);
    expect(mapTabularRow({ ID: 'A1', Service: 'Cleaning', Price: '12 000', Currency: 'jpy' }, mapping)).toEqual([
      deal({ title: 'Cleaning', customer_ref: 'A1', amount: 12000, currency: 'JPY' }),
    ]);
  });

  it('rejects an amount with decimals in JPY, naming the column', () => {
    const mapping = resolveMapping(['ID', 'Price', 'Currency'], defaults);
    const error = thrown(() => mapTabularRow({ ID: 'A1', Price: '1 234,50', Currency: 'JPY' }, mapping));
    expect(error).toBeInstanceOf(RecordError);
    expect((error as RecordError).message).toBe('Column "Price": "1 234,50" has more decimals than JPY allows.');
  });

  it('takes the currency from a symbol in the amount cell when there is no currency column', () => {
    const mapping = resolveMapping(['ID', 'Total'], defaults);
    expect(mapTabularRow({ ID: 'B2', Total: '100 ₽' }, mapping)).toEqual([deal({ customer_ref: 'B2', amount: 10000, currency: 'RUB' })]);
  });

  it('reads slashed dates in the configured order (MDY)', () => {
    const mapping = resolveMapping(['ID', 'Deadline'], { default_currency: 'USD', date_order: 'MDY' });
    expect(mapTabularRow({ ID: 'C3', Deadline: '03/04/2024' }, mapping)).toEqual([deal({ customer_ref: 'C3', due_at: '2024-03-04T00:00:00.000Z' })]);
  });

  it('rejects a row whose mapped cells are all blank', () => {
    const mapping: TabularMapping = resolveMapping(['ID', 'Name', 'Email'], defaults);
    const error = thrown(() => mapTabularRow({ ID: '9', Name: '  ', Email: '' }, mapping));
    expect(error).toBeInstanceOf(RecordError);
    expect((error as RecordError).message).toBe('The row states nothing we can map: no name, email, phone or job fields.');
  });
});

describe('suggested mappings for Russian sheets', () => {
  it("takes a '№' column as the key", () => {
    expect(resolveMapping(['№', 'Имя', 'Телефон'], { default_currency: 'RUB', date_order: 'DMY' }).keyColumn).toBe('№');
  });

  it("composes 'Имя' and 'Фамилия' into the full name", () => {
    const mapping = resolveMapping(['Email', 'Имя', 'Фамилия'], { default_currency: 'RUB', date_order: 'DMY' });
    const [person] = mapTabularRow({ Email: 'anna@example.ru', Имя: 'Анна', Фамилия: 'Петрова' }, mapping);
    expect(person.fields).toMatchObject({ name: 'Анна Петрова', first_name: 'Анна', last_name: 'Петрова' });
  });
});

describe('identity fields for matching', () => {
  it('maps birth date, address parts, city, postcode and national id, joining columns mapped to one field', () => {
    const mapping = resolveMapping(['ID', 'Name', 'Street number', 'Street', 'City', 'Postcode', 'Date of birth', 'SSN'], {
      key_column: 'ID',
      columns: { Name: 'person.name', 'Street number': 'person.address', Street: 'person.address', City: 'person.city', Postcode: 'person.postal_code', 'Date of birth': 'person.birth_date', SSN: 'person.national_id' },
      default_currency: 'USD', date_order: 'DMY',
    });
    const [fact] = mapTabularRow({ ID: '1', Name: 'Ann Lee', 'Street number': '7', Street: 'wallaby place', City: 'delmar', Postcode: '2119', 'Date of birth': '19560409', SSN: '1804974' }, mapping);
    expect(fact.fields).toMatchObject({ address: '7 wallaby place', city: 'delmar', postal_code: '2119', birth_date: '1956-04-09', national_id: '1804974' });
  });

  it('keeps a birth date that is not a real date as written instead of rejecting the client', () => {
    const mapping = resolveMapping(['ID', 'Name', 'DOB'], { key_column: 'ID', columns: { Name: 'person.name', DOB: 'person.birth_date' }, default_currency: 'USD', date_order: 'DMY' });
    expect(mapTabularRow({ ID: '1', Name: 'Ann', DOB: '19561409' }, mapping)[0].fields.birth_date).toBe('19561409');
    expect(mapTabularRow({ ID: '2', Name: 'Bo', DOB: '31.12.1980' }, mapping)[0].fields.birth_date).toBe('1980-12-31');
  });
});
