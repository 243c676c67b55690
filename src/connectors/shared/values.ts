// Parsing of the values people type into spreadsheets: amounts, dates, emails, phones.
// Pure functions; each returns undefined for an empty cell and throws ValueError for a bad one.

export class ValueError extends Error {}

const CURRENCY_SYMBOLS: [RegExp, string][] = [
  [/₽|руб\.?|р\./i, 'RUB'],
  [/\$|usd/i, 'USD'],
  [/€|eur/i, 'EUR'],
  [/£|gbp/i, 'GBP'],
  [/₸|тг|kzt/i, 'KZT'],
  [/₴|грн|uah/i, 'UAH'],
];

/** Digits after the decimal point of a currency (USD 2, JPY 0), from the runtime's ISO 4217 data. */
export function currencyExponent(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    throw new ValueError(`"${currency}" is not an ISO 4217 currency code`);
  }
}

export function parseCurrency(text: string): string | undefined {
  const value = text.trim().toUpperCase();
  if (value === '') return undefined;
  for (const [pattern, code] of CURRENCY_SYMBOLS) if (pattern.test(value)) return code;
  if (!/^[A-Z]{3}$/.test(value)) throw new ValueError(`"${text}" is not a currency code (expected e.g. USD, EUR, RUB)`);
  currencyExponent(value);
  return value;
}

/**
 * "1 234,50", "1,234.50", "$1,234.50", "(120)" → minor units of the currency, plus the
 * currency a symbol in the cell names. A lone separator followed by exactly three digits
 * groups thousands ("1,234" is 1234); otherwise it is the decimal point.
 */
export function parseAmount(text: string, currency: string): { minor: number; currency?: string } | undefined {
  const raw = text.trim();
  if (raw === '') return undefined;
  const symbolCurrency = CURRENCY_SYMBOLS.find(([pattern]) => pattern.test(raw))?.[1];
  let body = CURRENCY_SYMBOLS.reduce((value, [pattern]) => value.replace(new RegExp(pattern.source, 'gi'), ''), raw)
    .replace(/\b[A-Z]{3}\b/g, '')
    .replace(/[\s\u00a0\u202f'’]/g, '');
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
    if (onlyOne && body.length - body.lastIndexOf(separator) - 1 !== 3) decimalAt = body.lastIndexOf(separator);
  }
  const grouped = decimalAt >= 0 ? body.slice(0, decimalAt) : body;
  if (grouped.split(/[.,]/).slice(1).some((group) => group.length !== 3)) throw new ValueError(`"${text}" is not an amount`);
  const integerPart = grouped.replace(/[.,]/g, '');
  const fractionPart = decimalAt >= 0 ? body.slice(decimalAt + 1) : '';
  if (/[.,]/.test(fractionPart)) throw new ValueError(`"${text}" is not an amount`);
  const resolvedCurrency = symbolCurrency ?? currency;
  const exponent = currencyExponent(resolvedCurrency);
  if (fractionPart.length > exponent) throw new ValueError(`"${text}" has more decimals than ${resolvedCurrency} allows`);
  const minor = Number(integerPart || '0') * 10 ** exponent + Number(fractionPart.padEnd(exponent, '0') || '0');
  if (!Number.isSafeInteger(minor)) throw new ValueError(`"${text}" is too large an amount`);
  return { minor: negative ? -minor : minor, currency: symbolCurrency };
}

export type DateOrder = 'DMY' | 'MDY' | 'YMD';

/** ISO 8601, "31.12.2024 14:30", "12/31/2024" (by date order); a value without a zone is read as UTC. */
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
    const [y, m, d] = effective === 'YMD' ? [a, b, c] : effective === 'DMY' ? [c, b, a] : [c, a, b];
    if (y.length !== 4) throw new ValueError(`"${text}" is not a date with a four-digit year`);
    return build(y, m, d, hh, mm, ss, raw);
  }
  throw new ValueError(`"${text}" is not a date (expected e.g. 2024-12-31 or 31.12.2024)`);
}

function build(y: string, m: string, d: string, hh: string, mm: string, ss: string, raw: string, zone?: string): string {
  const pad = (value: string) => value.padStart(2, '0');
  const offset = !zone || zone.toUpperCase() === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const date = new Date(`${y}-${pad(m)}-${pad(d)}T${pad(hh)}:${mm}:${ss}${offset}`);
  // Date() rolls 31.02 over to March; a round trip of the day catches that.
  if (Number.isNaN(date.getTime()) || (offset === 'Z' && date.getUTCDate() !== Number(d))) throw new ValueError(`"${raw}" is not a real date`);
  return date.toISOString();
}

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]{2,}$/;

export function parseEmails(text: string): string[] {
  const parts = text.split(/[,;\s]+/).map((part) => part.trim().replace(/^mailto:/i, '')).filter(Boolean);
  for (const part of parts) if (!EMAIL.test(part)) throw new ValueError(`"${part}" is not an email address`);
  return [...new Set(parts.map((part) => part.toLowerCase()))];
}

/** Phones are kept as written (trimmed); E.164 normalisation belongs to reconciliation, which knows the region. */
export function parsePhones(text: string): string[] {
  const parts = text.split(/[,;\/]|\s{2,}/).map((part) => part.trim()).filter(Boolean);
  for (const part of parts) {
    const digits = part.replace(/\D/g, '');
    if (!/^[+\d\s().\-–]+(?:\s*(?:ext\.?|доб\.?|x)\s*\d+)?$/i.test(part) || digits.length < 5 || digits.length > 17) {
      throw new ValueError(`"${part}" is not a phone number`);
    }
  }
  return [...new Set(parts)];
}
