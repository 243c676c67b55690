// Parsing of the values people type into spreadsheets: amounts, dates, emails, phones.
// Pure functions; each returns undefined for an empty cell and throws ValueError for a bad one.

export class ValueError extends Error {}

// Currency markers people write next to amounts; \p{L} guards keep "р" from matching inside words.
const CURRENCY_MARKERS: [string, RegExp][] = [
  ['RUB', /₽|(?<!\p{L})(?:руб(?:л[а-яё]*|\.)?|р\.|р(?!\p{L})|rub(?!\p{L}))/iu],
  ['USD', /US\$|\$|(?<!\p{L})usd(?!\p{L})/iu],
  ['EUR', /€|(?<!\p{L})(?:eur|евро)(?!\p{L})/iu],
  ['GBP', /£|(?<!\p{L})gbp(?!\p{L})/iu],
  ['KZT', /₸|(?<!\p{L})(?:тг|тенге|kzt)(?!\p{L})/iu],
  ['UAH', /₴|(?<!\p{L})(?:грн|uah)(?!\p{L})/iu],
  ['JPY', /[¥￥]|(?<!\p{L})jpy(?!\p{L})/iu],
];
const ISO_CODE = /(?<!\p{L})([A-Za-z]{3})(?!\p{L})/u;
const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** Digits after the decimal point of a currency (USD 2, JPY 0), from the runtime's ISO 4217 data. */
export function currencyExponent(currency: string): number {
  let exponent = EXPONENTS.get(currency);
  if (exponent === undefined) {
    if (!KNOWN_CURRENCIES.has(currency)) throw new ValueError(`"${currency}" is not an ISO 4217 currency code`);
    // Building an Intl.NumberFormat costs ~20 µs: once per currency, not once per amount.
    exponent = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    EXPONENTS.set(currency, exponent);
  }
  return exponent;
}
const EXPONENTS = new Map<string, number>();

// Digits, separators, signs and spaces only: no currency marker can be there (most cells), skip the patterns.
const PLAIN_NUMBER = /^[\d\s.,'’()\-−\u00a0\u202f]*$/;

/** The currency a cell names (symbol, word or ISO code) and the text without it. */
function splitCurrency(text: string): { currency?: string; rest: string } {
  if (PLAIN_NUMBER.test(text)) return { rest: text };
  for (const [code, pattern] of CURRENCY_MARKERS) if (pattern.test(text)) return { currency: code, rest: text.replace(pattern, '') };
  const iso = ISO_CODE.exec(text);
  if (iso && KNOWN_CURRENCIES.has(iso[1].toUpperCase())) return { currency: iso[1].toUpperCase(), rest: text.replace(ISO_CODE, '') };
  return { rest: text };
}

export function parseCurrency(text: string): string | undefined {
  if (text.trim() === '') return undefined;
  const { currency, rest } = splitCurrency(text.trim());
  if (!currency || rest.trim() !== '') throw new ValueError(`"${text}" is not a currency code (expected e.g. USD, EUR, RUB)`);
  return currency;
}

/**
 * "1 234,50", "1,234.50", "$1,234.50", "1 500 рублей", "(120)" → minor units of the
 * currency, plus the currency the cell names. A lone separator followed by exactly three
 * digits groups thousands ("1,234" is 1234) unless the integer part is 0 ("0,500" is 0.5);
 * otherwise it is the decimal point.
 */
export function parseAmount(text: string, currency: string): { minor: number; currency?: string } | undefined {
  const raw = text.trim();
  if (raw === '') return undefined;
  const split = splitCurrency(raw);
  let body = split.rest.replace(/[\s\u00a0\u202f'’]/g, '');
  let negative = false;
  if (/^\(.*\)$/.test(body)) [negative, body] = [true, body.slice(1, -1)];
  if (/^[-−]|[-−]$/.test(body)) [negative, body] = [true, body.replace(/^[-−]|[-−]$/g, '')];
  if (!/^\d[\d.,]*$/.test(body)) throw new ValueError(`"${text}" is not an amount`);

  const lastComma = body.lastIndexOf(',');
  const lastDot = body.lastIndexOf('.');
  let decimalAt = -1;
  if (lastComma >= 0 && lastDot >= 0) decimalAt = Math.max(lastComma, lastDot);
  else if (lastComma >= 0 || lastDot >= 0) {
    const separator = lastComma >= 0 ? ',' : '.';
    const onlyOne = body.indexOf(separator) === body.lastIndexOf(separator);
    const leadingZero = body.slice(0, body.indexOf(separator)) === '0';
    if (onlyOne && (body.length - body.lastIndexOf(separator) - 1 !== 3 || leadingZero)) decimalAt = body.lastIndexOf(separator);
  }
  const grouped = decimalAt >= 0 ? body.slice(0, decimalAt) : body;
  if (grouped.split(/[.,]/).slice(1).some((group) => group.length !== 3)) throw new ValueError(`"${text}" is not an amount`);
  const integerPart = grouped.replace(/[.,]/g, '');
  const fractionPart = decimalAt >= 0 ? body.slice(decimalAt + 1) : '';
  if (/[.,]/.test(fractionPart)) throw new ValueError(`"${text}" is not an amount`);
  const resolvedCurrency = split.currency ?? currency;
  const exponent = currencyExponent(resolvedCurrency);
  // Trailing zeros past the currency's decimals are harmless ("0,500" €); other digits would be lost.
  const fraction = fractionPart.slice(exponent).replace(/0/g, '') === '' ? fractionPart.slice(0, exponent) : fractionPart;
  if (fraction.length > exponent) throw new ValueError(`"${text}" has more decimals than ${resolvedCurrency} allows`);
  const minor = Number(integerPart || '0') * 10 ** exponent + Number(fraction.padEnd(exponent, '0') || '0');
  if (!Number.isSafeInteger(minor)) throw new ValueError(`"${text}" is too large an amount`);
  return { minor: negative ? -minor : minor, currency: split.currency };
}

export type DateOrder = 'DMY' | 'MDY' | 'YMD';

/**
 * ISO 8601, "31.12.2024 14:30", "31.12.24", "12/31/2024" (by date order); a value without
 * a zone is read as UTC. Two-digit years are 2000–2069 or 1970–1999.
 */
export function parseDate(text: string, order: DateOrder): string | undefined {
  const raw = text.trim();
  if (raw === '') return undefined;
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(raw);
  if (iso) {
    const [, y, m, d, hh = '00', mm = '00', ss = '00', zone] = iso;
    return build(y, m, d, hh, mm, ss, raw, zone);
  }
  const local = /^(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})(?:[ ,T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(raw);
  if (local) {
    const [, a, b, c, hh = '0', mm = '00', ss = '00'] = local;
    const dotted = raw.includes('.');
    const effective: DateOrder = a.length === 4 ? 'YMD' : dotted ? 'DMY' : order === 'YMD' ? 'DMY' : order;
    const [year, m, d] = effective === 'YMD' ? [a, b, c] : effective === 'DMY' ? [c, b, a] : [c, a, b];
    if (year.length !== 4 && year.length !== 2) throw new ValueError(`"${text}" is not a date (the year needs four or two digits)`);
    const y = year.length === 2 ? String(Number(year) < 70 ? 2000 + Number(year) : 1900 + Number(year)) : year;
    return build(y, m, d, hh, mm, ss, raw);
  }
  throw new ValueError(`"${text}" is not a date (expected e.g. 2024-12-31 or 31.12.2024)`);
}

function build(y: string, m: string, d: string, hh: string, mm: string, ss: string, raw: string, zone?: string): string {
  // A real UTC date with a four-digit year (nearly every cell) is written out directly: no Date objects (~5× faster).
  const year = Number(y);
  const month = Number(m);
  if ((!zone || zone === 'Z' || zone === 'z') && year >= 1000 && month >= 1 && month <= 12 && Number(d) >= 1 && Number(d) <= daysIn(year, month)
      && Number(hh) <= 23 && Number(mm) <= 59 && Number(ss) <= 59) {
    return `${y}-${pad(m)}-${pad(d)}T${pad(hh)}:${mm}:${ss}.000Z`;
  }
  // Date() rolls 31.02 over to March; checking the calendar day first catches that, whatever the zone.
  const day = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  if (day.getUTCMonth() !== Number(m) - 1 || day.getUTCDate() !== Number(d) || Number(hh) > 23) throw new ValueError(`"${raw}" is not a real date`);
  const offset = !zone || zone.toUpperCase() === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const date = new Date(`${y}-${pad(m)}-${pad(d)}T${pad(hh)}:${mm}:${ss}${offset}`);
  if (Number.isNaN(date.getTime())) throw new ValueError(`"${raw}" is not a real date`);
  return date.toISOString();
}

const pad = (value: string) => (value.length >= 2 ? value : value.padStart(2, '0'));
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysIn = (year: number, month: number) => (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : DAYS_IN_MONTH[month - 1]);

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]{2,}$/;

/** "a@x.com; b@y.com" or "Anna Petrova <anna@example.com>" (as copied from a mail client). */
export function parseEmails(text: string): string[] {
  const bracketed = text.includes('<') ? [...text.matchAll(/<([^<>\s]+@[^<>\s]+)>/g)].map((match) => match[1]) : [];
  const parts = (bracketed.length > 0 ? bracketed : text.split(/[,;\s]+/)).map((part) => part.trim().replace(/^mailto:/i, '')).filter(Boolean);
  for (const part of parts) if (!EMAIL.test(part)) throw new ValueError(`"${part}" is not an email address`);
  return parts.length === 1 ? [parts[0].toLowerCase()] : [...new Set(parts.map((part) => part.toLowerCase()))];
}

/** Phones are kept as written (trimmed); E.164 normalisation belongs to reconciliation, which knows the region. */
export function parsePhones(text: string): string[] {
  const parts = text.split(/[,;\/\r\n]|\s{2,}/).map((part) => part.trim()).filter(Boolean);
  for (const part of parts) {
    const digits = part.replace(/\D/g, '');
    if (!/^[+\d\s().\-–]+(?:\s*(?:ext\.?|доб\.?|x)\s*\d+)?$/i.test(part) || digits.length < 5 || digits.length > 17) {
      throw new ValueError(`"${part}" is not a phone number`);
    }
  }
  return parts.length === 1 ? parts : [...new Set(parts)];
}
