import type { FieldEvidence } from './model.js';

// Clustering: admin must-links first, then candidate edges strongest first. An edge joins
// two clusters only if (1) no admin cannot-link separates them, (2) no limit is broken
// (two records of one "distinct identities" source, e.g. two Stripe customers), and (3) no
// pair across the two clusters strongly disagrees — the guard against chains A~B~C where A
// and C are clearly different people. Refused edges and edges in the review band go to
// the review queue. The result depends only on the records, edges and overrides of each
// connected component, so an incremental run over a component equals a full run.

export interface Edge {
  a: number;
  b: number;
  weight: number;
  evidence?: FieldEvidence[];
}

export interface Thresholds {
  /** Score at or above which a pair merges automatically. */
  auto: number;
  /** Score at or above which a pair below auto goes to review. */
  review: number;
  /** A pair across two clusters scoring below this blocks their merge. */
  guard: number;
}

export interface Link {
  rule: 'anchor' | 'auto' | 'admin';
  score: number | null;
  evidence: FieldEvidence[] | null;
  /** The record at the other end of the edge that joined this one. */
  with?: number;
}

export interface Candidate extends Edge {
  reason: 'review_band' | 'limit' | 'guard';
}

export interface Clustering {
  /** record id → anchor record id (the smallest id in its cluster) */
  anchorOf: Map<number, number>;
  links: Map<number, Link>;
  candidates: Candidate[];
}

export const pairKey = (a: number, b: number) => (a < b ? `${a}:${b}` : `${b}:${a}`);

export function cluster(
  ids: number[],
  edges: Edge[],
  overrides: { must: [number, number][]; cannot: Set<string> },
  exclusiveOf: (id: number) => string | undefined,
  thresholds: Thresholds,
  scoreOf: (a: number, b: number) => Edge,
): Clustering {
  const parent = new Map<number, number>();
  const members = new Map<number, number[]>();
  for (const id of ids) {
    parent.set(id, id);
    members.set(id, [id]);
  }
  const find = (id: number): number => {
    let root = id;
    while (parent.get(root) !== root) root = parent.get(root)!;
    let node = id;
    while (node !== root) {
      const next = parent.get(node)!;
      parent.set(node, root);
      node = next;
    }
    return root;
  };
  const union = (x: number, y: number) => {
    const [big, small] = members.get(x)!.length >= members.get(y)!.length ? [x, y] : [y, x];
    parent.set(small, big);
    members.get(big)!.push(...members.get(small)!);
    members.delete(small);
  };
  const links = new Map<number, Link>();

  for (const [a, b] of overrides.must) {
    if (!parent.has(a) || !parent.has(b)) continue;
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) continue;
    union(ra, rb);
    const edge = scoreOf(a, b);
    if (!links.has(b)) links.set(b, { rule: 'admin', score: edge.weight, evidence: edge.evidence ?? null, with: a });
    if (!links.has(a)) links.set(a, { rule: 'admin', score: edge.weight, evidence: edge.evidence ?? null, with: b });
  }

  const sorted = edges.filter((edge) => parent.has(edge.a) && parent.has(edge.b)).sort((x, y) => y.weight - x.weight || Math.min(x.a, x.b) - Math.min(y.a, y.b) || Math.max(x.a, x.b) - Math.max(y.a, y.b));
  const refused = new Map<string, Candidate>();
  for (const edge of sorted) {
    if (edge.weight < thresholds.auto) break;
    const ra = find(edge.a);
    const rb = find(edge.b);
    if (ra === rb) continue;
    const left = members.get(ra)!;
    const right = members.get(rb)!;
    const reason = blocked(left, right, overrides.cannot, exclusiveOf, thresholds.guard, scoreOf);
    if (reason === 'admin') continue;
    if (reason) {
      refused.set(pairKey(edge.a, edge.b), { ...edge, reason });
      continue;
    }
    union(ra, rb);
    if (!links.has(edge.b)) links.set(edge.b, { rule: 'auto', score: edge.weight, evidence: edge.evidence ?? null, with: edge.a });
    if (!links.has(edge.a)) links.set(edge.a, { rule: 'auto', score: edge.weight, evidence: edge.evidence ?? null, with: edge.b });
  }

  const anchorOf = new Map<number, number>();
  for (const group of members.values()) {
    const anchor = Math.min(...group);
    for (const id of group) anchorOf.set(id, anchor);
  }
  for (const id of ids) if (anchorOf.get(id) === id) links.set(id, { rule: 'anchor', score: null, evidence: null });

  const candidates: Candidate[] = [];
  for (const edge of sorted) {
    if (edge.weight < thresholds.review) break;
    if (anchorOf.get(edge.a) === anchorOf.get(edge.b)) continue;
    if (overrides.cannot.has(pairKey(edge.a, edge.b))) continue;
    candidates.push(refused.get(pairKey(edge.a, edge.b)) ?? { ...edge, reason: 'review_band' });
  }
  return { anchorOf, links, candidates };
}

function blocked(
  left: number[],
  right: number[],
  cannot: Set<string>,
  exclusiveOf: (id: number) => string | undefined,
  guard: number,
  scoreOf: (a: number, b: number) => Edge,
): 'admin' | 'limit' | 'guard' | undefined {
  for (const x of left) for (const y of right) if (cannot.has(pairKey(x, y))) return 'admin';
  const sources = new Set(left.map(exclusiveOf).filter(Boolean));
  if (sources.size > 0 && right.some((id) => sources.has(exclusiveOf(id)))) return 'limit';
  // Cross pairs are few (clusters hold a handful of records); oversized ones are not re-checked in full.
  if (left.length * right.length <= 400) {
    for (const x of left) for (const y of right) if (scoreOf(x, y).weight < guard) return 'guard';
  }
  return undefined;
}
