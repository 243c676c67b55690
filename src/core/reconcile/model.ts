import type { CountryCode } from 'libphonenumber-js';
import {
  companyDomain, jaroWinkler, levenshtein, nameKey, normalizeCode, normalizeDate, normalizeEmail,
  normalizeOrganizationName, normalizePhone, normalizeText, parsePersonName,
} from './normalize.js';

// Fellegi–Sunter scoring, declared as data. Each comparison sorts a pair of records into a
// level (exact / close / different …; "missing" when either side lacks the field). A level
// carries m = P(level | same client) and u = P(level | different clients); its weight is
// log2(m/u), and a pair's score is the sum of its comparisons' weights. m starts from the
// priors below and is re-estimated from the data (see estimate()); u is measured on random
// pairs, and for exact name/city agreement it is the frequency of that very value (a shared
// "Ivanov" is weaker evidence than a shared "Zakharchenko").

export type Kind = 'person' | 'organization';

export interface Features {
  id: number;
  connection: string;
  /** Connection id when each record of that source is a distinct client (e.g. Stripe customers): never two in one cluster automatically. */
  exclusive?: string;
  first?: string;
  last?: string;
  firstKey?: string;
  lastKey?: string;
  name?: string;
  /** The script the name was written in: a name matched across scripts is reported as transliterated. */
  script?: 'cyrillic' | 'latin';
  emails: string[];
  phones: string[];
  domains: string[];
  dob?: string;
  postcode?: string;
  city?: string;
  address?: string;
  nid?: string;
}

export interface Level {
  label: string;
  /** Declared prior of P(level | same client). */
  m: number;
  /** Declared prior of P(level | different clients), used until the workspace has enough records to measure it. */
  u: number;
  /** Use the frequency of the agreeing value as u (term-frequency adjustment). */
  tf?: boolean;
}

export interface Scratch {
  /** The value both sides agreed on (for term frequencies and the explanation). */
  value?: string;
  note?: string;
  /** How the pair's first and last names line up: worked out once for both name comparisons. */
  names?: NameAlignment;
}

interface NameAlignment {
  swap: boolean;
  /** Jaro–Winkler similarity of the aligned first names, and of the aligned last names (0 when one is missing). */
  first: number;
  last: number;
}

export interface Comparison {
  field: string;
  /** A direct identifier (email, phone, national or tax id): what the clustering guard weighs apart from names. */
  identifier?: true;
  levels: Level[];
  /** The level index for a pair, or -1 when either side is missing the field. The value is what agreed (for tf). */
  compare: (a: Features, b: Features, scratch: Scratch) => number;
}

const jwLevels = (field: string, get: (f: Features) => string | undefined, high: number, low: number, m: number[], u: number[], tf = false): Comparison => ({
  field,
  levels: [
    { label: 'exact', m: m[0], u: u[0], tf },
    { label: `jaro_winkler>=${high}`, m: m[1], u: u[1] },
    { label: `jaro_winkler>=${low}`, m: m[2], u: u[2] },
    { label: 'different', m: m[3], u: u[3] },
  ],
  compare: (a, b, scratch) => {
    const x = get(a);
    const y = get(b);
    if (!x || !y) return -1;
    if (x === y) {
      scratch.value = x;
      return 0;
    }
    const similarity = jaroWinkler(x, y);
    return similarity >= high ? 1 : similarity >= low ? 2 : 3;
  },
});

const similarity = (x?: string, y?: string) => (x && y ? jaroWinkler(x, y) : 0);

/**
 * First and last name compared in the order that fits best: sources swap them ("Петров
 * Иван"), or put the only name they have in the other field.
 */
function alignNames(a: Features, b: Features): NameAlignment {
  const firstFirst = similarity(a.first, b.first);
  const lastLast = similarity(a.last, b.last);
  const straight = firstFirst + lastLast;
  // Each similarity is at most 1: when straight is within 0.05 of 2, no swap can beat it.
  if (straight + 0.05 >= 2) return { swap: false, first: firstFirst, last: lastLast };
  const firstLast = similarity(a.first, b.last);
  const lastFirst = similarity(a.last, b.first);
  return firstLast + lastFirst > straight + 0.05 ? { swap: true, first: firstLast, last: lastFirst } : { swap: false, first: firstFirst, last: lastLast };
}

const nameToken = (field: 'first' | 'last', m: number[], u: number[]): Comparison => {
  const other = field === 'first' ? 'last' : 'first';
  const fieldKey = field === 'first' ? 'firstKey' : 'lastKey';
  const otherKey = field === 'first' ? 'lastKey' : 'firstKey';
  return {
    field: `${field}_name`,
    levels: [
      { label: 'exact', m: m[0], u: u[0], tf: true },
      { label: 'same_transliteration_key', m: m[1], u: u[1] },
      { label: 'jaro_winkler>=0.92', m: m[2], u: u[2] },
      { label: 'jaro_winkler>=0.8', m: m[3], u: u[3] },
      { label: 'different', m: m[4], u: u[4] },
    ],
    compare: (a, b, scratch) => {
      const names = (scratch.names ??= alignNames(a, b));
      const x = a[field];
      const y = names.swap ? b[other] : b[field];
      if (!x || !y) return -1;
      if (a.script && b.script && a.script !== b.script) scratch.note = 'transliterated';
      if (x === y) {
        scratch.value = x;
        return 0;
      }
      const xKey = a[fieldKey];
      const yKey = names.swap ? b[otherKey] : b[fieldKey];
      if (xKey && xKey === yKey) return 1;
      const similarity = names[field];
      return similarity >= 0.92 ? 2 : similarity >= 0.8 ? 3 : 4;
    },
  };
};

function overlap(x: string[], y: string[]): boolean {
  for (let i = 0; i < x.length; i++) for (let j = 0; j < y.length; j++) if (x[i] === y[j]) return true;
  return false;
}

/** Whether two lists share a value once each is cut by `part` (the local part of an email, a phone's last digits). */
function overlapBy(x: string[], y: string[], part: (value: string) => string): boolean {
  for (const left of x) {
    const cut = part(left);
    for (const right of y) if (part(right) === cut) return true;
  }
  return false;
}

const localPart = (email: string) => email.slice(0, email.indexOf('@'));
const last7Digits = (phone: string) => phone.slice(-7);

export const PERSON_COMPARISONS: Comparison[] = [
  nameToken('first', [0.8, 0.05, 0.07, 0.04, 0.04], [0.01, 0.004, 0.01, 0.04, 0.936]),
  nameToken('last', [0.82, 0.05, 0.07, 0.03, 0.03], [0.003, 0.002, 0.005, 0.03, 0.96]),
  {
    field: 'email',
    identifier: true,
    levels: [{ label: 'exact', m: 0.8, u: 0.0001 }, { label: 'one_or_two_typos', m: 0.08, u: 0.0002 }, { label: 'same_local_part', m: 0.04, u: 0.001 }, { label: 'different', m: 0.08, u: 0.9987 }],
    compare: (a, b) => {
      if (a.emails.length === 0 || b.emails.length === 0) return -1;
      if (overlap(a.emails, b.emails)) return 0;
      for (const x of a.emails) for (const y of b.emails) if (Math.abs(x.length - y.length) <= 2 && levenshtein(x, y, 2) <= 2) return 1;
      return overlapBy(a.emails, b.emails, localPart) ? 2 : 3;
    },
  },
  {
    field: 'phone',
    identifier: true,
    levels: [{ label: 'exact', m: 0.85, u: 0.0001 }, { label: 'same_last_7_digits', m: 0.05, u: 0.0005 }, { label: 'different', m: 0.1, u: 0.9994 }],
    compare: (a, b) => {
      if (a.phones.length === 0 || b.phones.length === 0) return -1;
      if (overlap(a.phones, b.phones)) return 0;
      return overlapBy(a.phones, b.phones, last7Digits) ? 1 : 2;
    },
  },
  {
    field: 'birth_date',
    levels: [
      { label: 'exact', m: 0.8, u: 0.0001 },
      { label: 'one_typo_or_day_month_swap', m: 0.1, u: 0.002 },
      { label: 'two_typos', m: 0.05, u: 0.02 },
      { label: 'different', m: 0.05, u: 0.9779 },
    ],
    compare: (a, b) => {
      if (!a.dob || !b.dob) return -1;
      if (a.dob === b.dob) return 0;
      const swapped = a.dob.length === 8 && b.dob.length === 8 && a.dob.slice(0, 4) === b.dob.slice(0, 4) && a.dob.slice(4, 6) === b.dob.slice(6, 8) && a.dob.slice(6, 8) === b.dob.slice(4, 6);
      if (swapped) return 1;
      const distance = levenshtein(a.dob, b.dob, 2);
      return distance <= 1 ? 1 : distance <= 2 ? 2 : 3;
    },
  },
  {
    field: 'national_id',
    identifier: true,
    levels: [{ label: 'exact', m: 0.85, u: 0.00001 }, { label: 'one_typo', m: 0.1, u: 0.0001 }, { label: 'different', m: 0.05, u: 0.99989 }],
    compare: (a, b) => {
      if (!a.nid || !b.nid) return -1;
      if (a.nid === b.nid) return 0;
      return levenshtein(a.nid, b.nid, 1) <= 1 ? 1 : 2;
    },
  },
  jwLevels('postcode', (f) => f.postcode, 0.95, 0.85, [0.8, 0.05, 0.05, 0.1], [0.01, 0.01, 0.05, 0.93]),
  jwLevels('city', (f) => f.city, 0.92, 0.8, [0.8, 0.08, 0.04, 0.08], [0.05, 0.01, 0.04, 0.9], true),
  jwLevels('address', (f) => f.address, 0.92, 0.8, [0.7, 0.15, 0.07, 0.08], [0.001, 0.003, 0.02, 0.976]),
  {
    field: 'company_domain',
    levels: [{ label: 'exact', m: 0.6, u: 0.01 }, { label: 'different', m: 0.4, u: 0.99 }],
    // A shared email already implies the shared domain: counting it again would add the same
    // evidence twice (Fellegi-Sunter assumes comparisons independent given match status).
    compare: (a, b) => (a.domains.length === 0 || b.domains.length === 0 || overlap(a.emails, b.emails) ? -1 : overlap(a.domains, b.domains) ? 0 : 1),
  },
];

export const ORGANIZATION_COMPARISONS: Comparison[] = [
  jwLevels('name', (f) => f.name, 0.94, 0.85, [0.8, 0.1, 0.05, 0.05], [0.001, 0.005, 0.02, 0.974], true),
  {
    field: 'domain',
    identifier: true,
    levels: [{ label: 'exact', m: 0.8, u: 0.001 }, { label: 'different', m: 0.2, u: 0.999 }],
    compare: (a, b) => (a.domains.length === 0 || b.domains.length === 0 ? -1 : overlap(a.domains, b.domains) ? 0 : 1),
  },
  {
    field: 'phone',
    identifier: true,
    levels: [{ label: 'exact', m: 0.8, u: 0.0001 }, { label: 'different', m: 0.2, u: 0.9999 }],
    compare: (a, b) => (a.phones.length === 0 || b.phones.length === 0 ? -1 : overlap(a.phones, b.phones) ? 0 : 1),
  },
  {
    field: 'tax_id',
    identifier: true,
    levels: [{ label: 'exact', m: 0.9, u: 0.00001 }, { label: 'different', m: 0.1, u: 0.99999 }],
    compare: (a, b) => (!a.nid || !b.nid ? -1 : a.nid === b.nid ? 0 : 1),
  },
];

export const comparisonsOf = (kind: Kind) => (kind === 'person' ? PERSON_COMPARISONS : ORGANIZATION_COMPARISONS);

/** What a trained model stores: per comparison, m and u per level, and value frequencies for tf levels. */
export interface Params {
  m: number[][];
  u: number[][];
  /** Per tf comparison: value → share of records with it. */
  tf: Record<string, Record<string, number>>;
  /** Share floor for a value not seen when training. */
  tfFloor: number;
  records: number;
  confidentPairs: number;
}

export function priorParams(kind: Kind): Params {
  const comparisons = comparisonsOf(kind);
  return {
    m: comparisons.map((comparison) => comparison.levels.map((level) => level.m)),
    u: comparisons.map((comparison) => comparison.levels.map((level) => level.u)),
    tf: {},
    tfFloor: 1e-4,
    records: 0,
    confidentPairs: 0,
  };
}

export interface FieldEvidence {
  field: string;
  level: string;
  weight: number;
  value?: string;
  /** e.g. "transliterated": the names agree once Cyrillic is written in Latin. */
  note?: string;
}

export interface Scored {
  weight: number;
  evidence: FieldEvidence[];
}

/** The score of a pair; with explain, every field's level and weight (the match evidence shown to people). */
export function scorePair(kind: Kind, params: Params, a: Features, b: Features, explain = false): Scored {
  const evidence: FieldEvidence[] = [];
  const weight = compareFields(kind, params, a, b, explain ? evidence : undefined);
  return { weight, evidence };
}

/** The score of a pair alone: what blocking's millions of candidate pairs need. */
export function matchWeight(kind: Kind, params: Params, a: Features, b: Features): number {
  return compareFields(kind, params, a, b, undefined);
}

/**
 * The weight of a pair, and the part of it that its direct identifiers (email, phone, national
 * or tax id) carry: the clustering guard tells "same name, different phone" from the rest.
 */
export function guardWeights(kind: Kind, params: Params, a: Features, b: Features): { weight: number; identifiers: number } {
  const identifiers: number[] = [];
  const weight = compareFields(kind, params, a, b, undefined, identifiers);
  return { weight, identifiers: identifiers[0] };
}

function compareFields(kind: Kind, params: Params, a: Features, b: Features, evidence: FieldEvidence[] | undefined, identifierSum?: number[]): number {
  const comparisons = comparisonsOf(kind);
  const weights = levelWeights(kind, params);
  const scratch: Scratch = { value: undefined, note: undefined, names: undefined };
  let weight = 0;
  let identifiers = 0;
  for (let index = 0; index < comparisons.length; index++) {
    const comparison = comparisons[index];
    scratch.value = undefined;
    scratch.note = undefined;
    const level = comparison.compare(a, b, scratch);
    // A field either record lacks weighs nothing and is left out of the evidence (a million
    // links would store seven "missing" entries each).
    if (level < 0) continue;
    const tf = weights.tf[index];
    const fieldWeight = tf && comparison.levels[level].tf && scratch.value !== undefined ? tf(level, scratch.value) : weights.level[index][level];
    weight += fieldWeight;
    if (comparison.identifier) identifiers += fieldWeight;
    if (evidence) evidence.push({ field: comparison.field, level: comparison.levels[level].label, weight: Math.round(fieldWeight * 100) / 100, ...(scratch.value !== undefined ? { value: scratch.value } : {}), ...(scratch.note && level < comparison.levels.length - 1 ? { note: scratch.note } : {}) });
  }
  if (identifierSum) identifierSum[0] = identifiers;
  return weight;
}

interface LevelWeights {
  kind: Kind;
  /** Per comparison and level: log2(m/u). */
  level: number[][];
  /** Per comparison with term frequencies: the weight of agreeing on a value (u = its share). */
  tf: (((level: number, value: string) => number) | undefined)[];
}

const weightsOf = new WeakMap<Params, LevelWeights>();

/**
 * A model's weights, worked out once per model instead of once per pair: the same log2(m/u),
 * so the same scores. (A model is not changed once it scores.)
 */
function levelWeights(kind: Kind, params: Params): LevelWeights {
  const known = weightsOf.get(params);
  if (known?.kind === kind) return known;
  const comparisons = comparisonsOf(kind);
  const compiled: LevelWeights = {
    kind,
    level: comparisons.map((_, index) => params.m[index].map((m, level) => Math.log2(m / params.u[index][level]))),
    tf: comparisons.map((comparison, index) => {
      const frequencies = params.tf[comparison.field];
      if (!frequencies) return undefined;
      const byValue = comparison.levels.map(() => new Map<string, number>());
      return (level: number, value: string) => {
        let weight = byValue[level].get(value);
        if (weight === undefined) {
          weight = Math.log2(params.m[index][level] / (frequencies[value] ?? params.tfFloor));
          byValue[level].set(value, weight);
        }
        return weight;
      };
    }),
  };
  weightsOf.set(params, compiled);
  return compiled;
}

/** Levels of every comparison for a pair (-1 missing), for estimation, into `levels`. */
function levelsOf(kind: Kind, a: Features, b: Features, levels: Int8Array): Int8Array {
  const comparisons = comparisonsOf(kind);
  const scratch: Scratch = { value: undefined, note: undefined, names: undefined };
  for (let index = 0; index < comparisons.length; index++) levels[index] = comparisons[index].compare(a, b, scratch);
  return levels;
}

/**
 * Trains m and u on a workspace's records.
 * - u: the level shares among random pairs of records (almost all are different clients),
 *   smoothed; for tf levels, the share of records holding each value.
 * - m: a leave-one-out estimate, simpler than EM and stable under blocking: for each field,
 *   the level shares among candidate pairs whose score from the *other* fields alone is
 *   overwhelming (≥ CONFIDENT). With too few such pairs a field keeps its declared prior.
 */
export function estimate(kind: Kind, records: Features[], candidatePairs: [Features, Features][], randomPairs = 100_000): Params {
  const comparisons = comparisonsOf(kind);
  const params = priorParams(kind);
  params.records = records.length;
  // A small workspace says little about how common a value is: it keeps the declared priors.
  if (records.length < MIN_RECORDS_TO_TRAIN) return params;

  // Term frequencies.
  for (const comparison of comparisons) {
    if (!comparison.levels.some((level) => level.tf)) continue;
    const counts = new Map<string, number>();
    let holders = 0;
    for (const record of records) {
      const value = tfValue(comparison.field, record);
      if (!value) continue;
      counts.set(value, (counts.get(value) ?? 0) + 1);
      holders++;
    }
    const shares: Record<string, number> = {};
    for (const [value, count] of counts) if (count > 1) shares[value] = count / holders;
    params.tf[comparison.field] = shares;
    params.tfFloor = Math.min(params.tfFloor, 1 / Math.max(holders, 1));
  }

  // u from random pairs (deterministic sampling: same data, same model).
  let seed = 0x9e3779b9;
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const uCounts = comparisons.map((comparison) => comparison.levels.map(() => 1));
  const levels = new Int8Array(comparisons.length);
  for (let sample = 0; sample < randomPairs; sample++) {
    const i = Math.floor(random() * records.length);
    let j = Math.floor(random() * records.length);
    if (j === i) j = (j + 1) % records.length;
    levelsOf(kind, records[i], records[j], levels);
    for (let index = 0; index < levels.length; index++) if (levels[index] >= 0) uCounts[index][levels[index]]++;
  }
  params.u = uCounts.map((counts) => {
    const total = counts.reduce((sum, count) => sum + count, 0);
    return counts.map((count) => count / total);
  });

  // m, leave one field out.
  const mCounts = comparisons.map((comparison) => comparison.levels.map(() => 0));
  const levelWeight = comparisons.map((_, index) => params.m[index].map((m, level) => Math.log2(m / params.u[index][level])));
  const weights = new Float64Array(comparisons.length);
  let confident = 0;
  for (const [a, b] of candidatePairs) {
    levelsOf(kind, a, b, levels);
    let total = 0;
    for (let index = 0; index < levels.length; index++) {
      weights[index] = levels[index] < 0 ? 0 : levelWeight[index][levels[index]];
      total += weights[index];
    }
    let any = false;
    for (let index = 0; index < levels.length; index++) {
      if (levels[index] >= 0 && total - weights[index] >= CONFIDENT) {
        mCounts[index][levels[index]]++;
        any = true;
      }
    }
    if (any) confident++;
  }
  params.confidentPairs = confident;
  params.m = mCounts.map((counts, index) => {
    const total = counts.reduce((sum, count) => sum + count, 0);
    if (total < 30) return params.m[index];
    // Smoothed toward the prior so that a level never seen keeps a small, non-zero m.
    const prior = params.m[index];
    return counts.map((count, level) => (count + 5 * prior[level]) / (total + 5));
  });
  return params;
}

const CONFIDENT = 16;
export const MIN_RECORDS_TO_TRAIN = 300;

function tfValue(field: string, record: Features): string | undefined {
  if (field === 'first_name') return record.first;
  if (field === 'last_name') return record.last;
  if (field === 'city') return record.city;
  if (field === 'name') return record.name;
  return undefined;
}

export interface PersonFact {
  source_record_id: number;
  connection_id: string;
  name: string | null;
  first_name: string | null;
  last_name: string | null;
  emails: string[];
  phones: string[];
  organization_name?: string | null;
  birth_date?: string | null;
  address?: string | null;
  city?: string | null;
  postal_code?: string | null;
  national_id?: string | null;
}

export interface OrganizationFact {
  source_record_id: number;
  connection_id: string;
  name: string | null;
  domains: string[];
  phones: string[];
  tax_id: string | null;
}

/**
 * Every field present from the start, in one order, absent ones undefined (JSON leaves them
 * out): all records then share one object shape, and the comparisons that read millions of
 * pairs stay monomorphic.
 */
function blankFeatures(id: number, connection: string, emails: string[], phones: string[], domains: string[]): Features {
  return {
    id, connection, exclusive: undefined, first: undefined, last: undefined, firstKey: undefined, lastKey: undefined, name: undefined, script: undefined,
    emails, phones, domains, dob: undefined, postcode: undefined, city: undefined, address: undefined, nid: undefined,
  };
}

export function personFeatures(fact: PersonFact, region: CountryCode, exclusive: boolean): Features {
  const parsed = parsePersonName({ name: fact.name, first: fact.first_name, last: fact.last_name });
  const emails = unique(fact.emails.map((email) => normalizeEmail(email)));
  const features = blankFeatures(Number(fact.source_record_id), fact.connection_id, emails,
    unique(fact.phones.map((phone) => normalizePhone(phone, region))), unique(emails.map((email) => companyDomain(email))));
  if (exclusive) features.exclusive = fact.connection_id;
  const written = fact.name ?? fact.last_name ?? fact.first_name;
  if (written) features.script = CYRILLIC.test(written) ? 'cyrillic' : 'latin';
  if (parsed.first) {
    features.first = parsed.first;
    features.firstKey = nameKey(parsed.first);
  }
  if (parsed.last) {
    features.last = parsed.last;
    features.lastKey = nameKey(parsed.last);
  }
  if (!parsed.first && !parsed.last) {
    // Mail often knows a client only by address: "ivan.petrov@…" (or "ivan.petrov85@…") still names Ivan Petrov.
    for (const email of fact.emails) {
      const local = /^([a-z]{2,})[._-]([a-z]{2,})\d*[@+]/.exec(email.trim().toLowerCase());
      if (!local) continue;
      features.first = local[1];
      features.firstKey = nameKey(local[1]);
      features.last = local[2];
      features.lastKey = nameKey(local[2]);
      break;
    }
  }
  const dob = fact.birth_date ? normalizeDate(fact.birth_date) ?? fact.birth_date.replace(/\D/g, '') : undefined;
  if (dob) features.dob = dob;
  const postcode = fact.postal_code ? normalizeCode(fact.postal_code) : undefined;
  if (postcode) features.postcode = postcode;
  const city = fact.city ? normalizeText(fact.city) : '';
  if (city) features.city = city;
  const address = fact.address ? normalizeText(fact.address) : '';
  if (address) features.address = address;
  const nid = fact.national_id ? normalizeCode(fact.national_id) : undefined;
  if (nid) features.nid = nid;
  return features;
}

const CYRILLIC = /[\u0400-\u04ff]/;

export function organizationFeatures(fact: OrganizationFact, region: CountryCode): Features {
  const name = fact.name ? normalizeOrganizationName(fact.name) : '';
  const features = blankFeatures(Number(fact.source_record_id), fact.connection_id, [],
    unique(fact.phones.map((phone) => normalizePhone(phone, region))), unique(fact.domains.map((domain) => domain.trim().toLowerCase().replace(/^www\./, ''))));
  if (name) features.name = name;
  const taxId = fact.tax_id ? normalizeCode(fact.tax_id) : undefined;
  if (taxId) features.nid = taxId;
  return features;
}

/**
 * Blocking keys: two records become a candidate pair only if they share one. Each key is
 * selective on its own (an email, a phone, a surname skeleton with a first initial or a
 * birth date …), so the work grows with the records, not with their pairs.
 */
export function blockingKeys(kind: Kind, f: Features): string[] {
  const keys: string[] = [];
  for (const email of f.emails) keys.push(`e:${email}`);
  for (const phone of f.phones) keys.push(`p:${phone}`);
  if (f.nid) keys.push(`i:${f.nid}`);
  if (kind === 'organization') {
    if (f.name) keys.push(`n:${f.name}`, `n4:${f.name.slice(0, 4)}|${f.name.length > 4 ? f.name.slice(-3) : ''}`);
    for (const domain of f.domains) keys.push(`d:${domain}`);
    return keys;
  }
  const names = [f.firstKey, f.lastKey].filter((key): key is string => !!key);
  if (f.lastKey && f.firstKey) {
    // Order-free, so swapped first/last names still meet.
    const [x, y] = [f.firstKey, f.lastKey].sort();
    keys.push(`nn:${x}|${y}`);
    keys.push(`nl:${f.lastKey}|${f.firstKey[0]}`, `nl:${f.firstKey}|${f.lastKey[0]}`);
  }
  // Each name alone, in either field: rare names meet whatever else went wrong; common ones
  // make oversized blocks and are skipped.
  for (const key of names) keys.push(`n1:${key}`);
  for (const email of f.emails) keys.push(`el:${email.slice(0, email.indexOf('@'))}`);
  if (f.dob) {
    keys.push(`b:${f.dob}`);
  }
  if (f.postcode && names.length > 0) for (const key of names) keys.push(`pc:${f.postcode}|${key.slice(0, 2)}`);
  for (const domain of f.domains) for (const key of names) keys.push(`d:${domain}|${key}`);
  return unique(keys);
}

function unique(values: (string | undefined)[]): string[] {
  const out: string[] = [];
  for (const value of values) if (value && !out.includes(value)) out.push(value);
  return out;
}
