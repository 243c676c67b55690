import type { CountryCode } from 'libphonenumber-js';
// max metadata: min calls ranges Russia never allocated (+7 300…) valid, max validates RU mobile/landline by type; they parse
// at the same speed and we keep possible numbers either way, so max costs nothing and answers validity right.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

// Normalization step of identity resolution: values in, comparable values out. Every function here runs
// about a million times per reconciliation run, so regexes, tables and buffers are built once at module load.

// ---------------------------------------------------------------------------------------------- email

const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com']);
const YANDEX_DOMAINS = new Set(['yandex.ru', 'yandex.com', 'yandex.by', 'yandex.kz', 'yandex.ua', 'ya.ru']);
const EMAIL_DOMAIN = /^[^\s@.][^\s@]*\.[^\s@.]+$/;
const EMAIL_LOCAL = /^[^\s@]+$/;

/** trim + lowercase; Gmail drops dots and +tag (googlemail.com → gmail.com); the Yandex family maps to yandex.ru, reads '-' as '.' and drops +tag. */
export function normalizeEmail(raw: string): string | undefined {
  const email = raw.trim().toLowerCase();
  const at = email.lastIndexOf('@');
  if (at <= 0) return undefined;
  let local = email.slice(0, at);
  let domain = email.slice(at + 1);
  if (!EMAIL_LOCAL.test(local) || !EMAIL_DOMAIN.test(domain) || domain.includes('..')) return undefined;
  if (GMAIL_DOMAINS.has(domain)) {
    domain = 'gmail.com';
    local = withoutPlusTag(local).replaceAll('.', '');
  } else if (YANDEX_DOMAINS.has(domain)) {
    // Yandex documents both: login+tag delivers to login, and login-name / login.name are one mailbox.
    domain = 'yandex.ru';
    local = withoutPlusTag(local).replaceAll('-', '.');
  }
  return local === '' ? undefined : `${local}@${domain}`;
}

function withoutPlusTag(local: string): string {
  const plus = local.indexOf('+');
  return plus < 0 ? local : local.slice(0, plus);
}

export const FREE_MAIL_DOMAINS: ReadonlySet<string> = new Set([
  'gmail.com', 'googlemail.com',
  'yahoo.com', 'yahoo.co.uk', 'yahoo.fr', 'yahoo.de', 'yahoo.it', 'yahoo.es', 'yahoo.ca', 'yahoo.com.au', 'yahoo.co.jp',
  'yahoo.co.in', 'yahoo.com.br', 'yahoo.com.mx', 'ymail.com', 'rocketmail.com',
  'outlook.com', 'outlook.de', 'outlook.fr', 'outlook.es', 'outlook.it',
  'hotmail.com', 'hotmail.co.uk', 'hotmail.fr', 'hotmail.de', 'hotmail.it', 'hotmail.es', 'live.com', 'live.ru', 'live.co.uk', 'msn.com',
  'icloud.com', 'me.com', 'mac.com',
  'mail.ru', 'bk.ru', 'inbox.ru', 'list.ru', 'internet.ru', 'my.com',
  'yandex.ru', 'yandex.com', 'yandex.by', 'yandex.kz', 'yandex.ua', 'yandex.com.tr', 'ya.ru', 'narod.ru',
  'rambler.ru', 'lenta.ru', 'ro.ru', 'autorambler.ru', 'myrambler.ru',
  'protonmail.com', 'protonmail.ch', 'proton.me', 'pm.me', 'tutanota.com', 'tuta.io', 'fastmail.com', 'hey.com', 'zoho.com',
  'aol.com', 'mail.com', 'gmx.com', 'gmx.net', 'gmx.de', 'gmx.at', 'gmx.ch', 'web.de', 't-online.de',
  'ukr.net', 'i.ua', 'meta.ua', 'tut.by', 'qip.ru',
]);

/** The company domain of an email, or undefined for free-mail domains (and for what is not an email). */
export function companyDomain(email: string): string | undefined {
  const normalized = normalizeEmail(email);
  if (normalized === undefined) return undefined;
  const domain = normalized.slice(normalized.lastIndexOf('@') + 1);
  return FREE_MAIL_DOMAINS.has(domain) ? undefined : domain;
}

// ---------------------------------------------------------------------------------------------- phone

const LETTER = /\p{L}/u;
// Runs repeat the same numbers across sources; clearing when full keeps memory flat. Small, because every
// entry a map keeps alive survives garbage collection and costs more than a short parse saves.
const PHONE_MEMO_LIMIT = 20_000;
const phoneMemo = new Map<string, string | null>();

/** A calling code whose national numbers all have ten digits, and how its regions write them at home. */
interface TenDigitZone {
  callingCode: string;
  trunkPrefix: string;
  /** A digit after the trunk prefix that starts the international prefix instead (8 10 … in Russia). */
  notAfterTrunk: string;
  /** A first digit that starts the trunk or international prefix rather than a national number. */
  notFirst: string;
}
const ZONE_7: TenDigitZone = { callingCode: '7', trunkPrefix: '8', notAfterTrunk: '1', notFirst: '8' };
const ZONE_1: TenDigitZone = { callingCode: '1', trunkPrefix: '1', notAfterTrunk: '', notFirst: '0' };
const TEN_DIGIT_ZONES = new Map<CountryCode, TenDigitZone>([['RU', ZONE_7], ['KZ', ZONE_7], ['US', ZONE_1], ['CA', ZONE_1]]);

/** E.164 or undefined; national formats read in defaultRegion; possible-but-unallocated numbers are kept, junk is not. */
export function normalizePhone(raw: string, defaultRegion: CountryCode): string | undefined {
  // Parse only '+' and digits: '8 (916) 123-45-67' and '8-916-1234567' share one memo entry.
  let dialable = '';
  let digitCount = 0;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code >= 48 && code <= 57) {
      dialable += raw[i];
      digitCount++;
    } else if (code === 43 && dialable === '') dialable = '+';
  }
  if (digitCount < 7 || digitCount > 17 || LETTER.test(raw)) return undefined;
  const tenDigit = tenDigitZoneNumber(dialable, defaultRegion);
  if (tenDigit !== undefined) return tenDigit;
  const key = defaultRegion + dialable;
  const known = phoneMemo.get(key);
  if (known !== undefined) return known ?? undefined;
  const parsed = parsePhoneNumberFromString(dialable, defaultRegion);
  const e164 = parsed?.isPossible() ? parsed.number : null;
  if (phoneMemo.size >= PHONE_MEMO_LIMIT) phoneMemo.clear();
  phoneMemo.set(key, e164);
  return e164 ?? undefined;
}

/**
 * The +7 and +1 shapes libphonenumber always reads as '+' + calling code + ten digits (checked against it in the
 * tests), without its cost: 3 µs for Russia, 17 µs for North America, where it tries each region's patterns.
 */
function tenDigitZoneNumber(dialable: string, region: CountryCode): string | undefined {
  if (dialable.length === 12 && (dialable.startsWith('+7') || dialable.startsWith('+1'))) return dialable;
  const zone = TEN_DIGIT_ZONES.get(region);
  if (zone === undefined) return undefined;
  if (dialable.length === 11 && dialable[0] === zone.trunkPrefix && dialable[1] !== zone.notAfterTrunk) return `+${zone.callingCode}${dialable.slice(1)}`;
  if (dialable.length === 10 && dialable[0] !== zone.notFirst) return `+${zone.callingCode}${dialable}`;
  return undefined;
}

// ----------------------------------------------------------------------------------------------- text

// One fixed scheme: ICAO Doc 9303 (Russian passports since 2013, so it is what bank cards and Stripe show),
// extended to Ukrainian and Belarusian; ў → v because names write ў where Russian writes в (Паўлавіч, Васільеў).
const CYRILLIC: Record<string, string> = {
  а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'e', ж: 'zh', з: 'z', и: 'i', й: 'i', к: 'k', л: 'l', м: 'm',
  н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'kh', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'shch',
  ъ: 'ie', ы: 'y', ь: '', э: 'e', ю: 'iu', я: 'ia',
  і: 'i', ї: 'i', є: 'ie', ґ: 'g', ў: 'v',
  ј: 'j', љ: 'lj', њ: 'nj', ђ: 'dj', ћ: 'c', џ: 'dz', ѓ: 'g', ќ: 'k', ѕ: 'dz',
  ә: 'a', ғ: 'g', қ: 'k', ң: 'n', ө: 'o', ұ: 'u', ү: 'u', һ: 'h',
};
// Letters diacritic-stripping would turn into the wrong sound: the Slavic hacek letters are sh/ch/zh.
const LATIN_SPECIAL: Record<string, string> = {
  ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', đ: 'd', ð: 'd', ł: 'l', þ: 'th', ı: 'i', ħ: 'h', ŧ: 't', ŀ: 'l', ĸ: 'k', ŋ: 'n', ſ: 's',
  š: 'sh', č: 'ch', ž: 'zh',
};
// Removed without a trace, so "O'Neil" → oneil and "Петров-Водкин" → petrovvodkin; at a word edge removal equals a space.
const JOINERS = "-\u2010\u2011\u00ad'`\u00b4\u2018\u2019\u02b9\u02ba\u02bb\u02bc";
const TABLE_SIZE = 0x1f00; // Latin, Latin Extended, IPA, Greek, Cyrillic, Latin Extended Additional
const SEPARATOR = ' ';
const COMBINING_MARK = /\p{M}/gu;
const LETTER_OR_DIGIT = /^[\p{L}\p{N}]+$/u;
const NON_ASCII = /[^\x00-\x7f]/;

/** For each UTF-16 code below TABLE_SIZE: its lowercase Latin spelling, '' to drop, or ' ' for a separator. */
const TEXT_TABLE: string[] = (() => {
  const table = new Array<string>(TABLE_SIZE);
  for (let code = 0; code < TABLE_SIZE; code++) {
    const lower = String.fromCharCode(code).toLowerCase();
    const base = lower.normalize('NFD').replace(COMBINING_MARK, '');
    let spelling: string;
    if (JOINERS.includes(String.fromCharCode(code))) spelling = '';
    else if (lower in CYRILLIC) spelling = CYRILLIC[lower];
    else if (lower in LATIN_SPECIAL) spelling = LATIN_SPECIAL[lower];
    else if (base in CYRILLIC) spelling = CYRILLIC[base];
    else if (base !== '' && LETTER_OR_DIGIT.test(base)) spelling = base;
    else if (base === '' && lower !== '') spelling = ''; // a lone combining mark
    else spelling = SEPARATOR;
    table[code] = spelling;
  }
  return table;
})();

/** NFKC, lowercase, diacritics stripped, Cyrillic transliterated (ICAO 9303), punctuation → one space, trimmed. */
export function normalizeText(text: string): string {
  const source = NON_ASCII.test(text) ? text.normalize('NFKC') : text;
  let out = '';
  let pendingSpace = false;
  for (let i = 0; i < source.length; i++) {
    const code = source.charCodeAt(i);
    let spelling: string;
    if (code < TABLE_SIZE) spelling = TEXT_TABLE[code];
    else {
      const point = source.codePointAt(i)!;
      if (point > 0xffff) i++;
      spelling = outsideTable(String.fromCodePoint(point));
    }
    if (spelling === SEPARATOR) pendingSpace = out !== '';
    else if (spelling !== '') {
      if (pendingSpace) out += ' ';
      pendingSpace = false;
      out += spelling;
    }
  }
  return out;
}

function outsideTable(char: string): string {
  const lower = char.toLowerCase();
  if (LETTER_OR_DIGIT.test(lower)) return lower; // other scripts stay as they are
  COMBINING_MARK.lastIndex = 0;
  return COMBINING_MARK.test(lower) ? '' : SEPARATOR;
}

// -------------------------------------------------------------------------------------------- name key

// Character codes the skeleton reads (inlined by the compiler).
const enum Letter { space = 32, a = 97, c = 99, e = 101, f = 102, h = 104, i = 105, j = 106, k = 107, o = 111, p = 112, q = 113, s = 115, t = 116, u = 117, v = 118, w = 119, x = 120, y = 121, z = 122 }
// One symbol for each Cyrillic sound that romanizations spell with several letters; capitals so they meet no letter.
const enum Sound { sh = 83, ch = 81, zh = 90, ts = 67 }
let symbols = new Uint16Array(64);

const isVowel = (symbol: number): boolean => symbol === Letter.a || symbol === Letter.e || symbol === Letter.i || symbol === Letter.o || symbol === Letter.u;

/** Appends a symbol unless it repeats the previous one (doubles collapse); returns the new length. */
function pushSymbol(length: number, symbol: number): number {
  if (length > 0 && symbols[length - 1] === symbol) return length;
  symbols[length] = symbol;
  return length + 1;
}

/**
 * A consonant skeleton of one name token: romanization variants and Cyrillic/Latin forms get one key
 * (Sergey/Sergei/Сергей → srg). Digraphs become one symbol (sh/sch/shch → S, ch/tch/cz → Q, zh → Z, ts/tz/c+e,i,y,v → C,
 * kh → h, x → ks, ph → f, w → v, y/j → i), doubles collapse, vowels after the first symbol drop, and a final 'a'
 * is kept so feminine forms stay apart (Petrov ≠ Petrova, Aleksandr ≠ Aleksandra).
 */
export function nameKey(token: string): string {
  const text = normalizeText(token);
  if (symbols.length < text.length * 2) symbols = new Uint16Array(text.length * 2);
  let length = 0;
  for (let at = 0; at < text.length; ) {
    const c0 = text.charCodeAt(at);
    const c1 = text.charCodeAt(at + 1); // NaN past the end
    const c2 = text.charCodeAt(at + 2);
    let symbol = c0;
    let width = 1;
    if (c0 === Letter.space) {
      at++;
      continue;
    } else if (c0 === Letter.t && c1 === Letter.s && c2 === Letter.c && text.charCodeAt(at + 3) === Letter.h) {
      symbol = Sound.ch;
      width = 4;
    } else if (c0 === Letter.s && c1 === Letter.h && c2 === Letter.c && text.charCodeAt(at + 3) === Letter.h) {
      symbol = Sound.sh;
      width = 4;
    } else if (c0 === Letter.s && c1 === Letter.c && c2 === Letter.h) {
      symbol = Sound.sh;
      width = 3;
    } else if (c0 === Letter.t && c1 === Letter.c && c2 === Letter.h) {
      symbol = Sound.ch;
      width = 3;
    } else if (c1 === Letter.h && (c0 === Letter.s || c0 === Letter.c || c0 === Letter.z || c0 === Letter.k || c0 === Letter.p || c0 === Letter.t)) {
      symbol = c0 === Letter.s ? Sound.sh : c0 === Letter.c ? Sound.ch : c0 === Letter.z ? Sound.zh : c0 === Letter.k ? Letter.h : c0 === Letter.p ? Letter.f : Letter.t;
      width = 2;
    } else if (c1 === Letter.z && (c0 === Letter.s || c0 === Letter.c || c0 === Letter.t)) {
      symbol = c0 === Letter.s ? Sound.sh : c0 === Letter.c ? Sound.ch : Sound.ts;
      width = 2;
    } else if (c0 === Letter.t && c1 === Letter.s) {
      symbol = Sound.ts;
      width = 2;
    } else if (c0 === Letter.c) {
      if (c1 === Letter.k) width = 2;
      symbol = c1 === Letter.e || c1 === Letter.i || c1 === Letter.y || c1 === Letter.v ? Sound.ts : Letter.k;
    } else if (c0 === Letter.x) {
      length = pushSymbol(length, Letter.k);
      symbol = Letter.s;
    } else if (c0 === Letter.q) symbol = Letter.k;
    else if (c0 === Letter.w) symbol = Letter.v;
    else if (c0 === Letter.y || c0 === Letter.j) symbol = Letter.i;
    length = pushSymbol(length, symbol);
    at += width;
  }
  if (length === 0) return '';
  // Ye/Je/Ie at the start spell Е: Yelena/Jelena/Elena, Yevgeny/Evgenii.
  const start = length > 1 && symbols[0] === Letter.i && symbols[1] === Letter.e ? 1 : 0;
  let key = String.fromCharCode(symbols[start]);
  for (let index = start + 1; index < length; index++) {
    if (!isVowel(symbols[index])) key += String.fromCharCode(symbols[index]);
  }
  // Petroff, Ivanoff: the old French spelling of -ов/-ев.
  if (key.length > 2 && symbols[length - 1] === Letter.f && (text.endsWith('off') || text.endsWith('eff'))) key = key.slice(0, -1) + 'v';
  if (length - start > 1 && symbols[length - 1] === Letter.a) key += 'a';
  return key;
}

// ------------------------------------------------------------------------------------------ person name

export interface PersonName {
  first?: string;
  middle?: string;
  last?: string;
  /** every normalized token, in order */
  tokens: string[];
}

const HONORIFICS_AND_SUFFIXES = new Set([
  'mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'sir', 'madam', 'gn', 'gzha', 'gospodin', 'gospozha', // г-н, г-жа
  'jr', 'sr', 'ii', 'iii', 'iv', 'phd', 'esq',
]);
const PATRONYMIC_ENDINGS = ['vich', 'vna', 'ichna'];

function isPatronymic(token: string): boolean {
  return token.length > 4 && PATRONYMIC_ENDINGS.some((ending) => token.endsWith(ending));
}

function nameTokens(text: string | null | undefined): string[] {
  if (!text) return [];
  const normalized = normalizeText(text);
  return normalized === '' ? [] : normalized.split(' ').filter((token) => !HONORIFICS_AND_SUFFIXES.has(token));
}

const joinOrUndefined = (tokens: string[]): string | undefined => (tokens.length > 0 ? tokens.join(' ') : undefined);

/**
 * First, middle and last name from a full name and/or first/last fields. A single token sets neither first nor
 * last (only tokens): 'Ivan' and 'Petrov' alone cannot be told apart, and a wrong guess would count as disagreement.
 */
export function parsePersonName(input: { name?: string | null; first?: string | null; last?: string | null }): PersonName {
  const fromName = parseFullName(input.name);
  const firstField = nameTokens(input.first);
  const lastField = nameTokens(input.last);
  if (firstField.length === 0 && lastField.length === 0) return fromName;

  // Fields win; the full name only fills what they leave out (a patronymic, the missing first or last).
  const given = new Set([...firstField, ...lastField].map(nameKey));
  const rest = fromName.tokens.filter((token) => !given.has(nameKey(token)));
  const middle = firstField.slice(1).filter(isPatronymic);
  const firstTokens = firstField.filter((token, index) => index === 0 || !isPatronymic(token));
  middle.push(...rest.filter(isPatronymic));
  const others = rest.filter((token) => !isPatronymic(token));
  let last = joinOrUndefined(lastField);
  let first = joinOrUndefined(firstTokens);
  if (last === undefined && others.length > 0) last = others.pop();
  else if (first === undefined && others.length > 0) first = others.shift();
  if (first === undefined || last === undefined) middle.push(...others);
  return {
    first,
    middle: joinOrUndefined(middle),
    last,
    tokens: [...(first ? first.split(' ') : []), ...middle.flatMap((m) => m.split(' ')), ...(last ? last.split(' ') : [])],
  };
}

function parseFullName(name: string | null | undefined): PersonName {
  if (!name) return { tokens: [] };
  const parts = name.split(',').map(nameTokens).filter((part) => part.length > 0);
  if (parts.length >= 2) {
    // "Last, First Middle"
    const [lastPart, firstPart, ...restParts] = parts;
    const middle = [...firstPart.slice(1), ...restParts.flat()];
    return {
      first: firstPart[0],
      middle: joinOrUndefined(middle),
      last: lastPart.join(' '),
      tokens: [...lastPart, ...firstPart, ...restParts.flat()],
    };
  }
  const tokens = parts[0] ?? [];
  if (tokens.length <= 1) return { tokens };
  if (tokens.length === 2) {
    if (isPatronymic(tokens[1])) return { first: tokens[0], middle: tokens[1], tokens };
    return { first: tokens[0], last: tokens[1], tokens };
  }
  if (tokens.length === 3) {
    // Имя Отчество Фамилия is checked first: surnames may end in -vich too (Роман Аркадьевич Абрамович).
    if (isPatronymic(tokens[1])) return { first: tokens[0], middle: tokens[1], last: tokens[2], tokens };
    if (isPatronymic(tokens[2])) return { first: tokens[1], middle: tokens[2], last: tokens[0], tokens };
  }
  return { first: tokens[0], middle: tokens.slice(1, -1).join(' '), last: tokens[tokens.length - 1], tokens };
}

// ------------------------------------------------------------------------------------------ organization

const LEGAL_FORMS = new Set([
  // Russian, Belarusian, Ukrainian, Kazakh, transliterated
  'ooo', 'oao', 'zao', 'pao', 'ao', 'nao', 'nko', 'ano', 'ip', 'too', 'odo', 'chup', 'gup', 'mup', 'fgup', 'tov', 'pp',
  // English and European
  'llc', 'pllc', 'ltd', 'limited', 'inc', 'incorporated', 'corp', 'corporation', 'co', 'company', 'plc', 'llp', 'lp',
  'pty', 'gmbh', 'mbh', 'ag', 'kg', 'ug', 'ohg', 'sa', 'sas', 'sarl', 'srl', 'spa', 'sl', 'bv', 'nv', 'oy', 'oyj', 'ab',
  'the',
]);
// Spelled-out legal forms, as token sequences after normalizeText.
const LEGAL_PHRASES: string[][] = [
  'obshchestvo s ogranichennoi otvetstvennostiu',
  'publichnoe aktsionernoe obshchestvo',
  'otkrytoe aktsionernoe obshchestvo',
  'zakrytoe aktsionernoe obshchestvo',
  'aktsionernoe obshchestvo',
  'individualnyi predprinimatel',
  'limited liability company',
  'public limited company',
].map((phrase) => phrase.split(' '));

/** normalizeText without legal-form words, spelled out or abbreviated ('L.L.C.'), and without 'the'. */
export function normalizeOrganizationName(text: string): string {
  const tokens = normalizeText(text).split(' ');
  const kept: string[] = [];
  for (let i = 0; i < tokens.length; ) {
    const phrase = LEGAL_PHRASES.find((words) => words.every((word, offset) => tokens[i + offset] === word));
    if (phrase) {
      i += phrase.length;
      continue;
    }
    // Dotted abbreviations arrive as single letters: L.L.C. → 'l l c'.
    let end = i;
    while (end < tokens.length && tokens[end].length === 1) end++;
    if (end - i >= 2 && LEGAL_FORMS.has(tokens.slice(i, end).join(''))) {
      i = end;
      continue;
    }
    if (!LEGAL_FORMS.has(tokens[i])) kept.push(tokens[i]);
    i++;
  }
  // A name made only of legal words ('The Company') is still a name.
  return kept.length > 0 ? kept.join(' ') : tokens.join(' ');
}

// ------------------------------------------------------------------------------------------ similarity

let matchedA = new Uint8Array(64);
let matchedB = new Uint8Array(64);

/** Jaro–Winkler similarity in [0,1]: p = 0.1, common prefix up to 4, boost applied above 0.7 (Winkler's threshold). */
export function jaroWinkler(a: string, b: string): number {
  if (a === b) return 1;
  const lengthA = a.length;
  const lengthB = b.length;
  if (lengthA === 0 || lengthB === 0) return 0;
  // Names are short: which characters matched fits in two 31-bit masks, the hot path of scoring.
  if (lengthA <= 31 && lengthB <= 31) jaroMatchesShort(a, b);
  else jaroMatchesLong(a, b);
  const matches = jaroMatches;
  const halfTranspositions = jaroHalfTranspositions;
  if (matches === 0) return 0;
  const jaro = (matches / lengthA + matches / lengthB + (matches - halfTranspositions / 2) / matches) / 3;
  if (jaro <= 0.7) return jaro;
  let prefix = 0;
  const prefixLimit = Math.min(4, lengthA, lengthB);
  while (prefix < prefixLimit && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  return jaro + prefix * 0.1 * (1 - jaro);
}

// What the two matchers below found (module state, so the hot path allocates nothing).
let jaroMatches = 0;
let jaroHalfTranspositions = 0;

/** Jaro's matching characters (each of b's used once, first come first served, within the window) and half-transpositions. */
function jaroMatchesShort(a: string, b: string): void {
  const lengthA = a.length;
  const lengthB = b.length;
  const window = Math.max(0, (Math.max(lengthA, lengthB) >> 1) - 1);
  let inA = 0;
  let inB = 0;
  let matches = 0;
  for (let i = 0; i < lengthA; i++) {
    const code = a.charCodeAt(i);
    const to = Math.min(i + window + 1, lengthB);
    for (let j = Math.max(0, i - window); j < to; j++) {
      if ((inB & (1 << j)) === 0 && b.charCodeAt(j) === code) {
        inA |= 1 << i;
        inB |= 1 << j;
        matches++;
        break;
      }
    }
  }
  let halfTranspositions = 0;
  if (matches > 0) {
    for (let i = 0, j = 0; i < lengthA; i++) {
      if ((inA & (1 << i)) === 0) continue;
      while ((inB & (1 << j)) === 0) j++;
      if (a.charCodeAt(i) !== b.charCodeAt(j)) halfTranspositions++;
      j++;
    }
  }
  jaroMatches = matches;
  jaroHalfTranspositions = halfTranspositions;
}

function jaroMatchesLong(a: string, b: string): void {
  const lengthA = a.length;
  const lengthB = b.length;
  if (matchedA.length < lengthA) matchedA = new Uint8Array(lengthA * 2);
  if (matchedB.length < lengthB) matchedB = new Uint8Array(lengthB * 2);
  matchedA.fill(0, 0, lengthA);
  matchedB.fill(0, 0, lengthB);
  const window = Math.max(0, (Math.max(lengthA, lengthB) >> 1) - 1);
  let matches = 0;
  for (let i = 0; i < lengthA; i++) {
    const code = a.charCodeAt(i);
    const to = Math.min(i + window + 1, lengthB);
    for (let j = Math.max(0, i - window); j < to; j++) {
      if (matchedB[j] === 0 && b.charCodeAt(j) === code) {
        matchedA[i] = 1;
        matchedB[j] = 1;
        matches++;
        break;
      }
    }
  }
  let halfTranspositions = 0;
  if (matches > 0) {
    for (let i = 0, j = 0; i < lengthA; i++) {
      if (matchedA[i] === 0) continue;
      while (matchedB[j] === 0) j++;
      if (a.charCodeAt(i) !== b.charCodeAt(j)) halfTranspositions++;
      j++;
    }
  }
  jaroMatches = matches;
  jaroHalfTranspositions = halfTranspositions;
}

let previousRow = new Int32Array(64);
let currentRow = new Int32Array(64);

/** Levenshtein distance, or max + 1 as soon as the distance is known to exceed max. */
export function levenshtein(a: string, b: string, max: number): number {
  if (a === b) return 0;
  let start = 0;
  let endA = a.length;
  let endB = b.length;
  while (start < endA && start < endB && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  while (endA > start && endB > start && a.charCodeAt(endA - 1) === b.charCodeAt(endB - 1)) {
    endA--;
    endB--;
  }
  const lengthA = endA - start;
  const lengthB = endB - start;
  if (Math.abs(lengthA - lengthB) > max) return max + 1;
  if (lengthA === 0) return lengthB;
  if (lengthB === 0) return lengthA;
  if (previousRow.length <= lengthB) {
    previousRow = new Int32Array((lengthB + 1) * 2);
    currentRow = new Int32Array((lengthB + 1) * 2);
  }
  for (let j = 0; j <= lengthB; j++) previousRow[j] = j;
  for (let i = 1; i <= lengthA; i++) {
    currentRow[0] = i;
    let rowMinimum = i;
    const code = a.charCodeAt(start + i - 1);
    for (let j = 1; j <= lengthB; j++) {
      const substitution = previousRow[j - 1] + (code === b.charCodeAt(start + j - 1) ? 0 : 1);
      const cost = Math.min(substitution, previousRow[j] + 1, currentRow[j - 1] + 1);
      currentRow[j] = cost;
      if (cost < rowMinimum) rowMinimum = cost;
    }
    if (rowMinimum > max) return max + 1;
    const swap = previousRow;
    previousRow = currentRow;
    currentRow = swap;
  }
  const distance = previousRow[lengthB];
  return distance > max ? max + 1 : distance;
}

// ----------------------------------------------------------------------------------------------- dates

const YEAR_FIRST = /^(\d{4})[-./](\d{1,2})[-./](\d{1,2})(?:[T\s].*)?$/;
const COMPACT = /^(\d{4})(\d{2})(\d{2})$/;
const DAY_FIRST_DOTTED = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/;
const YEAR_LAST = /^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$/;

/**
 * A date as 'YYYYMMDD', or undefined. Read: YYYY-MM-DD (also '/' or '.', time after it ignored), YYYYMMDD,
 * DD.MM.YYYY (dots are day-first, as Russians and Germans write), and A/B/YYYY or A-B-YYYY as month/day unless A > 12,
 * then day/month. Two-digit years, month names and years outside 1800–2199 are undefined rather than guessed.
 */
export function normalizeDate(text: string): string | undefined {
  const value = text.trim();
  let match = YEAR_FIRST.exec(value) ?? COMPACT.exec(value);
  if (match) return calendarDate(match[1], match[2], match[3]);
  match = DAY_FIRST_DOTTED.exec(value);
  if (match) return calendarDate(match[3], match[2], match[1]);
  match = YEAR_LAST.exec(value);
  if (match) {
    return Number(match[1]) > 12 ? calendarDate(match[3], match[2], match[1]) : calendarDate(match[3], match[1], match[2]);
  }
  return undefined;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function calendarDate(yearText: string, monthText: string, dayText: string): string | undefined {
  const year = Number(yearText);
  const month = Number(monthText);
  const day = Number(dayText);
  if (year < 1800 || year > 2199 || month < 1 || month > 12 || day < 1) return undefined;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (day > DAYS_IN_MONTH[month - 1] + (month === 2 && leap ? 1 : 0)) return undefined;
  return `${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}`;
}

// ----------------------------------------------------------------------------------------------- codes

const NOT_CODE_CHARACTER = /[^\p{L}\p{N}]+/gu;

/** Postcodes and tax/national ids: letters and digits only, uppercase ('sw1a 1aa' → 'SW1A1AA'); undefined when nothing is left. */
export function normalizeCode(text: string): string | undefined {
  const code = text.normalize('NFKC').replace(NOT_CODE_CHARACTER, '').toUpperCase();
  return code === '' ? undefined : code;
}
