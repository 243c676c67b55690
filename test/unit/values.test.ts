import { describe, expect, it } from 'vitest';
import { currencyExponent, parseAmount, parseCurrency, parseDate, parseEmails, parsePhones, ValueError } from '../../src/connectors/shared/values.js';

// What people type into spreadsheet cells, and what the hub reads from it.

describe('currencyExponent', () => {
  it('gives USD two decimals', () => {
    expect(currencyExponent('USD')).toBe(2);
  });

  it('gives RUB two decimals', () => {
    expect(currencyExponent('RUB')).toBe(2);
  });

  it('gives JPY no decimals', () => {
    expect(currencyExponent('JPY')).toBe(0);
  });

  it('gives KWD three decimals', () => {
    expect(currencyExponent('KWD')).toBe(3);
  });

  it('rejects something that is not shaped like a currency code', () => {
    expect(() => currencyExponent('12')).toThrow(ValueError);
    expect(() => currencyExponent('12')).toThrow('"12" is not an ISO 4217 currency code');
  });
});

describe('parseCurrency', () => {
  it('reads an empty cell as no currency', () => {
    expect(parseCurrency('   ')).toBeUndefined();
  });

  it('reads an ISO code in any case', () => {
    expect(parseCurrency('usd')).toBe('USD');
    expect(parseCurrency(' eur ')).toBe('EUR');
    expect(parseCurrency('JPY')).toBe('JPY');
  });

  it('reads the rouble sign and the Russian abbreviations as RUB', () => {
    expect(parseCurrency('₽')).toBe('RUB');
    expect(parseCurrency('руб.')).toBe('RUB');
    expect(parseCurrency('Рубли')).toBe('RUB');
  });

  it('reads currency signs', () => {
    expect(parseCurrency('$')).toBe('USD');
    expect(parseCurrency('€')).toBe('EUR');
    expect(parseCurrency('£')).toBe('GBP');
    expect(parseCurrency('₸')).toBe('KZT');
    expect(parseCurrency('грн')).toBe('UAH');
  });

  it('rejects a word that is not a currency, quoting it', () => {
    expect(() => parseCurrency('dollars')).toThrow(ValueError);
    expect(() => parseCurrency('dollars')).toThrow('"dollars" is not a currency code (expected e.g. USD, EUR, RUB)');
  });
});

describe('parseAmount', () => {
  it('reads an empty cell as no amount', () => {
    expect(parseAmount('', 'USD')).toBeUndefined();
    expect(parseAmount('  ', 'USD')).toBeUndefined();
  });

  it("reads '1 234,50' as 123450 minor units", () => {
    expect(parseAmount('1 234,50', 'USD')).toEqual({ minor: 123450 });
  });

  it('reads a non-breaking space as a thousands separator (as Excel writes it)', () => {
    expect(parseAmount('1\u00a0234,50', 'RUB')).toEqual({ minor: 123450 });
    expect(parseAmount('1\u202f234,50', 'RUB')).toEqual({ minor: 123450 });
  });

  it("reads '1,234.50' as 123450 minor units", () => {
    expect(parseAmount('1,234.50', 'USD')).toEqual({ minor: 123450 });
  });

  it("reads '1.234,50' (dot groups, comma decimal) as 123450 minor units", () => {
    expect(parseAmount('1.234,50', 'EUR')).toEqual({ minor: 123450 });
  });

  it("reads '$1,234.50' as 123450 minor units in USD", () => {
    expect(parseAmount('$1,234.50', 'RUB')).toEqual({ minor: 123450, currency: 'USD' });
  });

  it("reads '(120)' as minus 120 in minor units", () => {
    expect(parseAmount('(120)', 'USD')).toEqual({ minor: -12000 });
  });

  it("reads a leading minus '-1 234,50' as a negative amount", () => {
    expect(parseAmount('-1 234,50', 'USD')).toEqual({ minor: -123450 });
  });

  it("reads the Unicode minus in '−75' as a negative amount", () => {
    expect(parseAmount('−75', 'USD')).toEqual({ minor: -7500 });
  });

  it("reads '1,234' (a lone separator before three digits) as one thousand two hundred thirty-four", () => {
    expect(parseAmount('1,234', 'USD')).toEqual({ minor: 123400 });
  });

  it("reads '1.000.000' as one million", () => {
    expect(parseAmount('1.000.000', 'USD')).toEqual({ minor: 100000000 });
  });

  it("reads '12,5' as twelve and a half", () => {
    expect(parseAmount('12,5', 'USD')).toEqual({ minor: 1250 });
  });

  it("reads '0,99' as 99 minor units", () => {
    expect(parseAmount('0,99', 'USD')).toEqual({ minor: 99 });
  });

  it("reads '100 ₽' as 10000 kopecks in RUB, whatever the default currency", () => {
    expect(parseAmount('100 ₽', 'USD')).toEqual({ minor: 10000, currency: 'RUB' });
  });

  it("reads '15 000 руб.' as RUB", () => {
    expect(parseAmount('15 000 руб.', 'USD')).toEqual({ minor: 1500000, currency: 'RUB' });
  });

  it("reads '1 234,50 €' as EUR", () => {
    expect(parseAmount('1 234,50 €', 'USD')).toEqual({ minor: 123450, currency: 'EUR' });
  });

  it("reads 'USD 99.90' with the code before the number", () => {
    expect(parseAmount('USD 99.90', 'RUB')).toEqual({ minor: 9990, currency: 'USD' });
  });

  it("reads '1 500' in JPY as 1500 minor units (JPY has no decimals)", () => {
    expect(parseAmount('1 500', 'JPY')).toEqual({ minor: 1500 });
  });

  it("reads '1,500' in JPY as 1500 minor units", () => {
    expect(parseAmount('1,500', 'JPY')).toEqual({ minor: 1500 });
  });

  it("rejects '1500,5' in JPY: more decimals than the currency has", () => {
    expect(() => parseAmount('1500,5', 'JPY')).toThrow(ValueError);
    expect(() => parseAmount('1500,5', 'JPY')).toThrow('"1500,5" has more decimals than JPY allows');
  });

  it("rejects '12,3,4': groups of thousands have three digits", () => {
    expect(() => parseAmount('12,3,4', 'USD')).toThrow(ValueError);
    expect(() => parseAmount('12,3,4', 'USD')).toThrow('"12,3,4" is not an amount');
  });

  it("rejects 'abc'", () => {
    expect(() => parseAmount('abc', 'USD')).toThrow(ValueError);
    expect(() => parseAmount('abc', 'USD')).toThrow('"abc" is not an amount');
  });

  it("rejects '1.234.5': a decimal part cannot follow two group separators", () => {
    expect(() => parseAmount('1.234.5', 'USD')).toThrow('"1.234.5" is not an amount');
  });

  it('rejects an amount too large to count exactly in minor units', () => {
    expect(() => parseAmount('100000000000000000', 'USD')).toThrow('"100000000000000000" is too large an amount');
  });
});

describe('parseDate', () => {
  it('reads an empty cell as no date', () => {
    expect(parseDate(' ', 'DMY')).toBeUndefined();
  });

  it("reads '2024-12-31' as midnight UTC", () => {
    expect(parseDate('2024-12-31', 'DMY')).toBe('2024-12-31T00:00:00.000Z');
  });

  it("reads '2024-12-31 14:30' (no zone) as UTC", () => {
    expect(parseDate('2024-12-31 14:30', 'MDY')).toBe('2024-12-31T14:30:00.000Z');
  });

  it("reads '31.12.2024 14:30' as day first", () => {
    expect(parseDate('31.12.2024 14:30', 'DMY')).toBe('2024-12-31T14:30:00.000Z');
  });

  it('reads dotted dates day first even when the order is MDY', () => {
    expect(parseDate('03.04.2024', 'MDY')).toBe('2024-04-03T00:00:00.000Z');
  });

  it("reads '03/04/2024' as 3 April under DMY", () => {
    expect(parseDate('03/04/2024', 'DMY')).toBe('2024-04-03T00:00:00.000Z');
  });

  it("reads '03/04/2024' as 4 March under MDY", () => {
    expect(parseDate('03/04/2024', 'MDY')).toBe('2024-03-04T00:00:00.000Z');
  });

  it("reads '12/31/2024 9:05' under MDY, padding the hour", () => {
    expect(parseDate('12/31/2024 9:05', 'MDY')).toBe('2024-12-31T09:05:00.000Z');
  });

  it("reads '2024/12/31' year first whatever the order", () => {
    expect(parseDate('2024/12/31', 'MDY')).toBe('2024-12-31T00:00:00.000Z');
  });

  it("converts an ISO time with a +03:00 offset to UTC", () => {
    expect(parseDate('2024-12-31T14:30:00+03:00', 'DMY')).toBe('2024-12-31T11:30:00.000Z');
  });

  it('moves to the previous UTC day when the offset crosses midnight', () => {
    expect(parseDate('2025-01-01T01:00:00+03:00', 'DMY')).toBe('2024-12-31T22:00:00.000Z');
  });

  it("reads an offset written without a colon ('+0300')", () => {
    expect(parseDate('2024-12-31T14:30+0300', 'DMY')).toBe('2024-12-31T11:30:00.000Z');
  });

  it("reads a trailing 'Z' as UTC", () => {
    expect(parseDate('2024-12-31T14:30:15Z', 'DMY')).toBe('2024-12-31T14:30:15.000Z');
  });

  it("rejects '2024-02-30', a day February does not have", () => {
    expect(() => parseDate('2024-02-30', 'DMY')).toThrow(ValueError);
    expect(() => parseDate('2024-02-30', 'DMY')).toThrow('"2024-02-30" is not a real date');
  });

  it("rejects '31.02.2024'", () => {
    expect(() => parseDate('31.02.2024', 'DMY')).toThrow('"31.02.2024" is not a real date');
  });

  it("rejects '12/31/2024' under DMY: there is no month 31", () => {
    expect(() => parseDate('12/31/2024', 'DMY')).toThrow('"12/31/2024" is not a real date');
  });

  it('accepts 29 February in a leap year', () => {
    expect(parseDate('29.02.2024', 'DMY')).toBe('2024-02-29T00:00:00.000Z');
  });

  it('rejects text that is not a date', () => {
    expect(() => parseDate('next Tuesday', 'DMY')).toThrow('"next Tuesday" is not a date (expected e.g. 2024-12-31 or 31.12.2024)');
  });
});

describe('parseEmails', () => {
  it('lower-cases an address', () => {
    expect(parseEmails('Anna.Petrova@Example.COM')).toEqual(['anna.petrova@example.com']);
  });

  it('splits on commas, semicolons and spaces and drops duplicates that differ only in case', () => {
    expect(parseEmails('Anna@Example.com; anna@example.com, bob@example.org  ivan@example.ru')).toEqual([
      'anna@example.com',
      'bob@example.org',
      'ivan@example.ru',
    ]);
  });

  it("strips a 'mailto:' prefix", () => {
    expect(parseEmails('mailto:Anna@Example.com')).toEqual(['anna@example.com']);
  });

  it('reads an empty cell as no addresses', () => {
    expect(parseEmails('  ')).toEqual([]);
  });

  it('rejects an address without a domain, naming the value', () => {
    expect(() => parseEmails('anna@example.com, bob@localhost')).toThrow(ValueError);
    expect(() => parseEmails('anna@example.com, bob@localhost')).toThrow('"bob@localhost" is not an email address');
  });

  it('rejects a value with no @', () => {
    expect(() => parseEmails('anna.example.com')).toThrow('"anna.example.com" is not an email address');
  });
});

describe('parsePhones', () => {
  it('keeps a phone as written, trimmed', () => {
    expect(parsePhones('  +7 (912) 345-67-89 ')).toEqual(['+7 (912) 345-67-89']);
  });

  it('splits several numbers on commas, semicolons and slashes', () => {
    expect(parsePhones('+7 (912) 345-67-89, 8 800 555-35-35; +1 555 010 0001 / 8-495-123-45-67')).toEqual([
      '+7 (912) 345-67-89',
      '8 800 555-35-35',
      '+1 555 010 0001',
      '8-495-123-45-67',
    ]);
  });

  it('splits numbers separated by two or more spaces', () => {
    expect(parsePhones('+7 912 345 67 89   +7 912 000 11 22')).toEqual(['+7 912 345 67 89', '+7 912 000 11 22']);
  });

  it('drops a number written twice', () => {
    expect(parsePhones('+7 912 345-67-89; +7 912 345-67-89')).toEqual(['+7 912 345-67-89']);
  });

  it("accepts an extension ('ext. 12', 'доб. 305')", () => {
    expect(parsePhones('+1 555 010 0100 ext. 12, +7 495 123-45-67 доб. 305')).toEqual(['+1 555 010 0100 ext. 12', '+7 495 123-45-67 доб. 305']);
  });

  it('rejects words, naming the value', () => {
    expect(() => parsePhones('+7 912 345-67-89, call after 6')).toThrow(ValueError);
    expect(() => parsePhones('+7 912 345-67-89, call after 6')).toThrow('"call after 6" is not a phone number');
  });

  it('rejects a number with fewer than five digits', () => {
    expect(() => parsePhones('1234')).toThrow('"1234" is not a phone number');
  });
});

describe('what users write that the first version got wrong', () => {
  it("reads '1 500 рублей' as 150000 kopecks in RUB", () => {
    expect(parseAmount('1 500 рублей', 'USD')).toEqual({ minor: 150000, currency: 'RUB' });
  });

  it("reads '100 RUB' in RUB even when the default is USD", () => {
    expect(parseAmount('100 RUB', 'USD')).toEqual({ minor: 10000, currency: 'RUB' });
  });

  it("reads '1 500 JPY' as 1500 yen, a currency without minor units", () => {
    expect(parseAmount('1 500 JPY', 'USD')).toEqual({ minor: 1500, currency: 'JPY' });
  });

  it("reads '¥1,500' as 1500 yen", () => {
    expect(parseAmount('¥1,500', 'USD')).toEqual({ minor: 1500, currency: 'JPY' });
  });

  it("reads '0,500' as half a unit, not five hundred", () => {
    expect(parseAmount('0,500', 'EUR')).toEqual({ minor: 50, currency: undefined });
  });

  it("rejects 'XYZ', which is no ISO 4217 currency", () => {
    expect(() => parseCurrency('XYZ')).toThrow(ValueError);
  });

  it('rejects 30 February even with a zone offset', () => {
    expect(() => parseDate('2024-02-30T10:00:00+03:00', 'DMY')).toThrow('is not a real date');
  });

  it("reads the Russian short year '31.12.24' as 2024", () => {
    expect(parseDate('31.12.24', 'DMY')).toBe('2024-12-31T00:00:00.000Z');
  });

  it('splits two phones typed on two lines of one cell', () => {
    expect(parsePhones('+7 912 345-67-89\n+7 912 000-11-22')).toEqual(['+7 912 345-67-89', '+7 912 000-11-22']);
  });

  it("takes the address out of 'Anna Petrova <Anna@Example.com>'", () => {
    expect(parseEmails('Anna Petrova <Anna@Example.com>')).toEqual(['anna@example.com']);
  });
});
