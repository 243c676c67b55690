import { describe, expect, it } from 'vitest';
import { cluster, pairKey, type Edge, type PairScorer } from '../../src/core/reconcile/cluster.js';

// The clustering guard, on hand-made scores: records 1 and 2 are "Никита Медвединский" with
// different phones (two people), record 3 is a CRM row with the name only. Names alone score
// 17 (over the auto threshold); a differing phone costs 9.
const thresholds = { auto: 12, review: 4, guard: -8 };
const noOverrides = { must: [] as [number, number][], cannot: new Set<string>() };

function scorer(pairs: Record<string, { weight: number; identifiers: number }>): PairScorer {
  const of = (a: number, b: number) => pairs[pairKey(a, b)] ?? { weight: 0, identifiers: 0 };
  return { weight: (a, b) => of(a, b).weight, guard: of, evidence: () => [] };
}

describe('clustering guard', () => {
  it('keeps two namesakes apart when only a name-only record joins them and their phones differ', () => {
    const pairs = {
      [pairKey(1, 3)]: { weight: 17, identifiers: 0 },
      [pairKey(2, 3)]: { weight: 17, identifiers: 0 },
      [pairKey(1, 2)]: { weight: 8, identifiers: -9 },
    };
    const edges: Edge[] = [{ a: 1, b: 3, weight: 17 }, { a: 2, b: 3, weight: 17 }, { a: 1, b: 2, weight: 8 }];
    const result = cluster([1, 2, 3], edges, noOverrides, () => undefined, thresholds, scorer(pairs));
    expect(result.anchorOf.get(1)).not.toBe(result.anchorOf.get(2));
    // The name-only record joins one of them; the other link waits in the review queue.
    expect(result.anchorOf.get(3)).toBe(result.anchorOf.get(1));
    expect(result.candidates).toContainEqual(expect.objectContaining({ a: 2, b: 3, reason: 'guard' }));
  });

  it('merges them when a pair across shares an identifier: one person with two phones', () => {
    // 1: name, phone A, email E; 2: name, phone B; 3: name, phone B, email E.
    const pairs = {
      [pairKey(2, 3)]: { weight: 32, identifiers: 15 }, // same phone B
      [pairKey(1, 3)]: { weight: 21, identifiers: 4 }, // same email, different phones
      [pairKey(1, 2)]: { weight: 8, identifiers: -9 }, // different phones only
    };
    const edges: Edge[] = [{ a: 2, b: 3, weight: 32 }, { a: 1, b: 3, weight: 21 }, { a: 1, b: 2, weight: 8 }];
    const result = cluster([1, 2, 3], edges, noOverrides, () => undefined, thresholds, scorer(pairs));
    expect(new Set([1, 2, 3].map((id) => result.anchorOf.get(id)))).toEqual(new Set([1]));
    expect(result.candidates).toEqual([]);
  });

  it('still refuses a chain whose ends disagree on names and identifiers alike', () => {
    const pairs = {
      [pairKey(1, 3)]: { weight: 20, identifiers: 13 },
      [pairKey(2, 3)]: { weight: 20, identifiers: 13 },
      [pairKey(1, 2)]: { weight: -20, identifiers: -9 },
    };
    const edges: Edge[] = [{ a: 1, b: 3, weight: 20 }, { a: 2, b: 3, weight: 20 }];
    const result = cluster([1, 2, 3], edges, noOverrides, () => undefined, thresholds, scorer(pairs));
    expect(result.anchorOf.get(1)).not.toBe(result.anchorOf.get(2));
  });

  it('asks about two clusters once in the review queue, through their strongest pair', () => {
    const pairs = {
      [pairKey(1, 2)]: { weight: 30, identifiers: 15 },
      [pairKey(3, 4)]: { weight: 30, identifiers: 15 },
      [pairKey(1, 3)]: { weight: 8, identifiers: 0 },
      [pairKey(2, 4)]: { weight: 7, identifiers: 0 },
      [pairKey(1, 4)]: { weight: 6, identifiers: 0 },
    };
    const edges: Edge[] = Object.keys(pairs).map((key) => {
      const [a, b] = key.split(':').map(Number);
      return { a, b, weight: pairs[key].weight };
    });
    const result = cluster([1, 2, 3, 4], edges, noOverrides, () => undefined, thresholds, scorer(pairs));
    expect(result.candidates).toEqual([expect.objectContaining({ a: 1, b: 3, weight: 8, reason: 'review_band' })]);
  });
});
