import type { FieldEvidence } from './model.js';

// Clustering: admin must-links first, then candidate edges strongest first. An edge joins
// two clusters only if (1) no admin cannot-link separates them, (2) no limit is broken
// (two records of one "distinct identities" source, e.g. two Stripe customers), and (3) no
// pair across the two clusters strongly disagrees — the guard against chains A~B~C where A
// and C are clearly different people, or where only names join A and C while their phones or
// emails disagree (namesakes). Refused edges and edges in the review band go to
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
  /**
   * A pair across two clusters scoring below this blocks their merge; so does a pair whose
   * identifiers alone score below it (same name, different phone) when no pair across agrees
   * on an identifier.
   */
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

/** Edge order: strongest first, ties by record ids, so that the same edges always meet in the same order. */
export const strongestFirst = (x: Edge, y: Edge) => y.weight - x.weight || Math.min(x.a, x.b) - Math.min(y.a, y.b) || Math.max(x.a, x.b) - Math.max(y.a, y.b);

/** How clustering scores pairs that are not edges: the guard's cross pairs, and admin links. */
export interface PairScorer {
  weight: (a: number, b: number) => number;
  /** A pair's weight and the part its direct identifiers (email, phone, ids) carry. */
  guard: (a: number, b: number) => { weight: number; identifiers: number };
  /** The field-by-field evidence of an admin link. */
  evidence: (a: number, b: number) => FieldEvidence[];
}

const ANCHOR: Link = Object.freeze({ rule: 'anchor', score: null, evidence: null });

export function cluster(
  ids: number[],
  edges: Edge[],
  overrides: { must: [number, number][]; cannot: Set<string> },
  exclusiveOf: (id: number) => string | undefined,
  thresholds: Thresholds,
  scorer: PairScorer,
): Clustering {
  // Union-find over dense indices: a cluster is a root, a size and a list of members (next,
  // tail), so that joining two clusters is O(1) and a million records cost a few typed
  // arrays. Members stay in the order they joined: the order golden records list them in.
  const count = ids.length;
  const indexOf = new Map<number, number>();
  for (let index = 0; index < count; index++) indexOf.set(ids[index], index);
  const parent = new Int32Array(count);
  const size = new Int32Array(count).fill(1);
  const next = new Int32Array(count).fill(-1);
  const tail = new Int32Array(count);
  for (let index = 0; index < count; index++) {
    parent[index] = index;
    tail[index] = index;
  }
  // Per cluster root: the distinct-identity sources among its records (most clusters have none).
  const exclusiveSources: (Set<string> | undefined)[] = ids.map((id) => {
    const source = exclusiveOf(id);
    return source ? new Set([source]) : undefined;
  });
  // Cannot-links by index, checked pair by pair whichever is fewer: them, or the cross pairs.
  const cannotPairs: [number, number][] = [];
  if (overrides.cannot.size > 0) {
    for (const key of overrides.cannot) {
      const [a, b] = key.split(':').map(Number);
      const x = indexOf.get(a);
      const y = indexOf.get(b);
      if (x !== undefined && y !== undefined) cannotPairs.push([x, y]);
    }
  }
  const find = (index: number): number => {
    let root = index;
    while (parent[root] !== root) root = parent[root];
    while (index !== root) {
      const up = parent[index];
      parent[index] = root;
      index = up;
    }
    return root;
  };
  const union = (x: number, y: number) => {
    const [big, small] = size[x] >= size[y] ? [x, y] : [y, x];
    parent[small] = big;
    size[big] += size[small];
    next[tail[big]] = small;
    tail[big] = tail[small];
    const smallSources = exclusiveSources[small];
    if (smallSources) {
      const bigSources = exclusiveSources[big];
      if (!bigSources) exclusiveSources[big] = smallSources;
      else if (bigSources.size >= smallSources.size) for (const source of smallSources) bigSources.add(source);
      else {
        for (const source of bigSources) smallSources.add(source);
        exclusiveSources[big] = smallSources;
      }
      exclusiveSources[small] = undefined;
    }
  };
  const membersOf = (root: number): number[] => {
    const members: number[] = [];
    for (let member = root; member !== -1; member = next[member]) members.push(member);
    return members;
  };
  // Guard scores, smaller id first, so that the order clusters meet in cannot change a score.
  const guardOf = (x: number, y: number) => (ids[x] < ids[y] ? scorer.guard(ids[x], ids[y]) : scorer.guard(ids[y], ids[x]));
  // Per pair of clusters, a cross pair the guard refused: clusters only grow, so while its two
  // records are still on either side, the next edge between those clusters is refused at once.
  const refusedAcross = new Map<number, number>();
  // Per pair of cluster roots refused for conflicting identifiers: their sizes then. Clusters
  // only grow, so the same roots and sizes are the same clusters and the same answer.
  const conflictRefused = new Map<number, number>();
  const blocked = (left: number, right: number): 'admin' | 'limit' | 'guard' | undefined => {
    const crossPairs = size[left] * size[right];
    if (cannotPairs.length > 0) {
      if (cannotPairs.length < crossPairs) {
        for (const [x, y] of cannotPairs) {
          const rx = find(x);
          const ry = find(y);
          if ((rx === left && ry === right) || (rx === right && ry === left)) return 'admin';
        }
      } else {
        for (const x of membersOf(left)) for (const y of membersOf(right)) if (overrides.cannot.has(pairKey(ids[x], ids[y]))) return 'admin';
      }
    }
    const leftSources = exclusiveSources[left];
    const rightSources = exclusiveSources[right];
    if (leftSources && rightSources) for (const source of rightSources) if (leftSources.has(source)) return 'limit';
    // Cross pairs are few (clusters hold a handful of records); oversized ones are not re-checked in full.
    if (crossPairs <= 400) {
      const clusters = left < right ? left * count + right : right * count + left;
      const known = refusedAcross.get(clusters);
      if (known !== undefined) {
        const x = find(Math.floor(known / count));
        const y = find(known % count);
        if ((x === left && y === right) || (x === right && y === left)) return 'guard';
      }
      // Refused for conflicting identifiers and unchanged since: refused again (namesakes'
      // clusters meet through every pair of their records).
      if (conflictRefused.get(clusters) === size[left] + size[right]) return 'guard';
      const rightMembers = membersOf(right);
      // Namesakes: two clusters that only names join, while a pair across disagrees on
      // identifiers (both have phones, none shared), are two people. A cluster whose records
      // share an identifier across is one person with two phones.
      let conflict = false;
      let agreement = false;
      for (const x of membersOf(left)) {
        for (const y of rightMembers) {
          const { weight, identifiers } = guardOf(x, y);
          if (weight < thresholds.guard) {
            refusedAcross.set(clusters, x * count + y);
            return 'guard';
          }
          if (identifiers < thresholds.guard) conflict = true;
          else if (identifiers > 0) agreement = true;
        }
      }
      if (conflict && !agreement) {
        conflictRefused.set(clusters, size[left] + size[right]);
        return 'guard';
      }
    }
    return undefined;
  };
  const links = new Map<number, Link>();

  for (const [a, b] of overrides.must) {
    const x = indexOf.get(a);
    const y = indexOf.get(b);
    if (x === undefined || y === undefined) continue;
    const rx = find(x);
    const ry = find(y);
    if (rx === ry) continue;
    union(rx, ry);
    const score = scorer.weight(a, b);
    const evidence = scorer.evidence(a, b);
    if (!links.has(b)) links.set(b, { rule: 'admin', score, evidence, with: a });
    if (!links.has(a)) links.set(a, { rule: 'admin', score, evidence, with: b });
  }

  const sorted = edges.filter((edge) => indexOf.has(edge.a) && indexOf.has(edge.b)).sort(strongestFirst);
  const refused = new Map<string, Candidate>();
  for (const edge of sorted) {
    if (edge.weight < thresholds.auto) break;
    const ra = find(indexOf.get(edge.a)!);
    const rb = find(indexOf.get(edge.b)!);
    if (ra === rb) continue;
    const reason = blocked(ra, rb);
    if (reason === 'admin') continue;
    if (reason) {
      refused.set(pairKey(edge.a, edge.b), { ...edge, reason });
      continue;
    }
    union(ra, rb);
    if (!links.has(edge.b)) links.set(edge.b, { rule: 'auto', score: edge.weight, evidence: edge.evidence ?? null, with: edge.a });
    if (!links.has(edge.a)) links.set(edge.a, { rule: 'auto', score: edge.weight, evidence: edge.evidence ?? null, with: edge.b });
  }

  // Anchor: the smallest id of each cluster. Clusters in the order of their roots, members in join order.
  const anchorOf = new Map<number, number>();
  for (let root = 0; root < count; root++) {
    if (parent[root] !== root) continue;
    let anchor = Infinity;
    for (let member = root; member !== -1; member = next[member]) if (ids[member] < anchor) anchor = ids[member];
    for (let member = root; member !== -1; member = next[member]) anchorOf.set(ids[member], anchor);
  }
  for (const id of ids) if (anchorOf.get(id) === id) links.set(id, ANCHOR);

  // The review queue asks whether two clusters are one client: one entry per pair of
  // clusters, their strongest pair (namesakes' clusters meet through most of their records).
  const candidates: Candidate[] = [];
  const asked = new Set<string>();
  for (const edge of sorted) {
    if (edge.weight < thresholds.review) break;
    const x = anchorOf.get(edge.a)!;
    const y = anchorOf.get(edge.b)!;
    if (x === y) continue;
    if (overrides.cannot.size > 0 && overrides.cannot.has(pairKey(edge.a, edge.b))) continue;
    const clusters = pairKey(x, y);
    if (asked.has(clusters)) continue;
    asked.add(clusters);
    candidates.push(refused.get(pairKey(edge.a, edge.b)) ?? { ...edge, reason: 'review_band' });
  }
  return { anchorOf, links, candidates };
}
