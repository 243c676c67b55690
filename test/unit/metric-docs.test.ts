import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../src/core/rollups/definitions.js';

// docs/metrics.md is what people read; /v1/metrics/definitions is what the code says. They must agree.
describe('docs/metrics.md', () => {
  const doc = fs.readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
  it.each(METRICS.map((metric) => [metric.name, metric] as const))('documents %s with the definition the API serves', (name, metric) => {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
    expect(row, `no row for ${name}`).toBeDefined();
    expect(row).toContain(metric.definition.replace(/\|/g, '\\|'));
    expect(row).toContain(metric.dimensions.join(', '));
  });
});
