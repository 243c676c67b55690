import fs from 'node:fs';
import iconv from 'iconv-lite';
import { isKnownHeader } from '../shared/tabular.js';

// What a CSV file is, read from its first 64 KiB: encoding, delimiter, whether row one is a header.

export type Encoding = 'utf-8' | 'windows-1251' | 'utf-16le';
const SAMPLE_BYTES = 64 * 1024;
const DELIMITERS = [',', ';', '\t', '|'] as const;

export function readSample(filePath: string): Buffer {
  const handle = fs.openSync(filePath, 'r');
  try {
    const buffer = Buffer.alloc(SAMPLE_BYTES);
    const read = fs.readSync(handle, buffer, 0, SAMPLE_BYTES, 0);
    return buffer.subarray(0, read);
  } finally {
    fs.closeSync(handle);
  }
}

/** BOM first; then strict UTF-8; anything else is taken as Windows-1251 (what Excel in Russia saves). */
export function detectEncoding(sample: Buffer): Encoding {
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return 'utf-8';
  if (sample[0] === 0xff && sample[1] === 0xfe) return 'utf-16le';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(trimPartialUtf8(sample));
    return 'utf-8';
  } catch {
    return 'windows-1251';
  }
}

/** The sample may end inside a multi-byte character; drop that tail before validating. */
function trimPartialUtf8(sample: Buffer): Buffer {
  for (let back = 1; back <= Math.min(3, sample.length); back++) {
    const byte = sample[sample.length - back];
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const expected = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return expected > back ? sample.subarray(0, sample.length - back) : sample;
  }
  return sample;
}

export function decodeSample(sample: Buffer, encoding: Encoding): string {
  return iconv.decode(sample, encoding).replace(/^\uFEFF/, '');
}

/** The candidate that splits the first lines into the same number (> 0) of fields most consistently. */
export function detectDelimiter(text: string): string {
  const lines = splitLogicalLines(text).slice(0, 20).filter((line) => line.trim() !== '');
  if (lines.length > 1 && text.length >= SAMPLE_BYTES - 4) lines.pop(); // the last sampled line may be cut
  let best: { delimiter: string; score: number } = { delimiter: ',', score: 0 };
  for (const delimiter of DELIMITERS) {
    const counts = lines.map((line) => countOutsideQuotes(line, delimiter));
    const first = counts[0] ?? 0;
    if (first === 0) continue;
    const consistent = counts.filter((count) => count === first).length / counts.length;
    const score = consistent * 1000 + first;
    if (score > best.score) best = { delimiter, score };
  }
  return best.delimiter;
}

function splitLogicalLines(text: string): string[] {
  const lines: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    if ((char === '\n' || char === '\r') && !quoted) {
      if (current !== '') lines.push(current);
      current = '';
    } else current += char;
  }
  if (current !== '') lines.push(current);
  return lines;
}

function countOutsideQuotes(line: string, delimiter: string): number {
  let count = 0;
  let quoted = false;
  for (const char of line) {
    if (char === '"') quoted = !quoted;
    else if (char === delimiter && !quoted) count++;
  }
  return count;
}

/**
 * Row one is a header when a cell is a header we know, or when every cell is non-empty,
 * distinct and looks like a label (no digits-only values, no emails).
 */
export function looksLikeHeader(firstRow: string[]): boolean {
  if (firstRow.some((cell) => isKnownHeader(cell))) return true;
  const cells = firstRow.map((cell) => cell.trim());
  if (cells.some((cell) => cell === '')) return false;
  if (new Set(cells).size !== cells.length) return false;
  return cells.every((cell) => !/^[-+\d\s.,()]+$/.test(cell) && !cell.includes('@'));
}
