import crypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { contentHash } from '../../src/core/ingest/engine.js';
import { defaultRetryPolicy, retryDelayMs, type RetryPolicy } from '../../src/core/ingest/http.js';
import { decryptSecret, encryptSecret, randomBase62 } from '../../src/core/secrets.js';

// How long to wait before retrying a source; credentials sealed at rest; the hash that dedupes records.

const policy: RetryPolicy = { retries: 6, baseDelayMs: 500, maxDelayMs: 60_000, headersTimeoutMs: 60_000 };

describe('retryDelayMs', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('uses the default policy of 6 retries from 500 ms up to a minute', () => {
    expect(defaultRetryPolicy).toEqual({ retries: 6, baseDelayMs: 500, maxDelayMs: 60_000, headersTimeoutMs: 60_000 });
  });

  it("waits the seconds Retry-After gives ('5' → 5000 ms), whatever the attempt", () => {
    expect(retryDelayMs(0, '5', policy, () => 0.9)).toBe(5000);
    expect(retryDelayMs(5, '5', policy, () => 0.9)).toBe(5000);
  });

  it("honours 'Retry-After: 0' as an immediate retry", () => {
    expect(retryDelayMs(3, '0', policy)).toBe(0);
  });

  it('caps Retry-After seconds at the longest delay of the policy', () => {
    expect(retryDelayMs(0, '120', policy)).toBe(60_000);
  });

  it('waits until the HTTP date Retry-After gives', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2024-12-31T12:00:00Z'));
    expect(retryDelayMs(0, 'Tue, 31 Dec 2024 12:00:30 GMT', policy, () => 0.9)).toBe(30_000);
  });

  it('caps an HTTP date far ahead at the longest delay of the policy', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2024-12-31T12:00:00Z'));
    expect(retryDelayMs(0, 'Tue, 31 Dec 2024 13:00:00 GMT', policy)).toBe(60_000);
  });

  it('falls back to exponential backoff for an HTTP date in the past', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2024-12-31T12:00:00Z'));
    // attempt 2: cap 500 * 4 = 2000; half of it plus half of the other half.
    expect(retryDelayMs(2, 'Tue, 31 Dec 2024 11:59:00 GMT', policy, () => 0.5)).toBe(1500);
  });

  it('falls back to exponential backoff for a Retry-After it cannot read', () => {
    expect(retryDelayMs(0, 'soon', policy, () => 0)).toBe(250);
  });

  it('falls back to exponential backoff for a negative Retry-After', () => {
    expect(retryDelayMs(1, '-5', policy, () => 0)).toBe(500);
  });

  it('waits between half the cap and the cap on the first attempt (500 ms base)', () => {
    expect(retryDelayMs(0, null, policy, () => 0)).toBe(250);
    expect(retryDelayMs(0, null, policy, () => 0.5)).toBe(375);
    expect(retryDelayMs(0, null, policy, () => 0.999)).toBe(500);
  });

  it('doubles the cap with each attempt', () => {
    expect(retryDelayMs(1, null, policy, () => 0)).toBe(500);
    expect(retryDelayMs(2, null, policy, () => 0)).toBe(1000);
    expect(retryDelayMs(3, null, policy, () => 0.5)).toBe(3000);
  });

  it('rounds to whole milliseconds', () => {
    expect(retryDelayMs(0, null, policy, () => 0.333)).toBe(333);
  });

  it('never waits longer than the longest delay of the policy', () => {
    expect(retryDelayMs(10, null, policy, () => 0)).toBe(30_000);
    expect(retryDelayMs(10, null, policy, () => 0.999)).toBe(59_970);
  });

  it('follows a custom policy', () => {
    const quick: RetryPolicy = { retries: 3, baseDelayMs: 100, maxDelayMs: 1000, headersTimeoutMs: 60_000 };
    expect(retryDelayMs(2, null, quick, () => 0)).toBe(200);
    expect(retryDelayMs(4, null, quick, () => 0.25)).toBe(625);
  });

  it('stays within [cap/2, cap] with real randomness', () => {
    for (let i = 0; i < 200; i++) {
      const delay = retryDelayMs(1, null, policy);
      expect(delay).toBeGreaterThanOrEqual(500);
      expect(delay).toBeLessThanOrEqual(1000);
    }
  });
});

describe('encryptSecret / decryptSecret', () => {
  const key = crypto.randomBytes(32);
  const secret = { api_key: 'sk_live_123', nested: { account: 42, scopes: ['read', 'запись'] } };

  /** Flips one bit of one dot-separated part of a sealed value. */
  function tamper(sealed: string, part: 1 | 2 | 3): string {
    const parts = sealed.split('.');
    const bytes = Buffer.from(parts[part], 'base64url');
    bytes[0] ^= 0x01;
    parts[part] = bytes.toString('base64url');
    return parts.join('.');
  }

  it('round-trips a JSON value', () => {
    expect(decryptSecret(key, encryptSecret(key, secret))).toEqual(secret);
  });

  it('round-trips a plain string', () => {
    expect(decryptSecret(key, encryptSecret(key, 'hunter2'))).toBe('hunter2');
  });

  it('seals as v1.<iv: 12 bytes>.<tag: 16 bytes>.<ciphertext> in base64url', () => {
    const sealed = encryptSecret(key, 'hi'); // JSON "hi" is 4 bytes
    const [version, iv, tag, ciphertext] = sealed.split('.');
    expect(version).toBe('v1');
    expect(Buffer.from(iv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag, 'base64url')).toHaveLength(16);
    expect(Buffer.from(ciphertext, 'base64url')).toHaveLength(4);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{6}$/);
  });

  it('does not show the secret in the sealed value', () => {
    expect(encryptSecret(key, secret)).not.toContain('sk_live_123');
  });

  it('seals the same value differently each time (a fresh IV)', () => {
    const first = encryptSecret(key, secret);
    const second = encryptSecret(key, secret);
    expect(first).not.toBe(second);
    expect(first.split('.')[1]).not.toBe(second.split('.')[1]);
  });

  it('rejects a tampered ciphertext', () => {
    const sealed = encryptSecret(key, secret);
    expect(() => decryptSecret(key, tamper(sealed, 3))).toThrow();
  });

  it('rejects a tampered authentication tag', () => {
    const sealed = encryptSecret(key, secret);
    expect(() => decryptSecret(key, tamper(sealed, 2))).toThrow();
  });

  it('rejects a tampered IV', () => {
    const sealed = encryptSecret(key, secret);
    expect(() => decryptSecret(key, tamper(sealed, 1))).toThrow();
  });

  it('rejects another master key', () => {
    const sealed = encryptSecret(key, secret);
    expect(() => decryptSecret(crypto.randomBytes(32), sealed)).toThrow();
  });

  it('rejects a value in another format', () => {
    expect(() => decryptSecret(key, 'plain-text-token')).toThrow('Unrecognised encrypted secret format.');
    const [, iv, tag, ciphertext] = encryptSecret(key, secret).split('.');
    expect(() => decryptSecret(key, ['v2', iv, tag, ciphertext].join('.'))).toThrow('Unrecognised encrypted secret format.');
    expect(() => decryptSecret(key, ['v1', iv, tag].join('.'))).toThrow('Unrecognised encrypted secret format.');
  });
});

describe('randomBase62', () => {
  it('gives a string of the length asked for', () => {
    expect(randomBase62(22)).toHaveLength(22);
    expect(randomBase62(1)).toHaveLength(1);
    expect(randomBase62(0)).toBe('');
  });

  it('uses only digits and ASCII letters', () => {
    expect(randomBase62(500)).toMatch(/^[0-9A-Za-z]{500}$/);
  });

  it('uses all 62 characters', () => {
    expect(new Set(randomBase62(10_000)).size).toBe(62);
  });

  it('gives a different value each time', () => {
    expect(randomBase62(32)).not.toBe(randomBase62(32));
  });
});

describe('contentHash', () => {
  const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('base64url');

  it('is the base64url SHA-256 of the salt, a newline and the JSON with keys sorted', () => {
    expect(contentHash('salt-1', { b: 2, a: 'x' })).toBe(sha256('salt-1\n{"a":"x","b":2}'));
  });

  it('is the same whatever the order of keys, at every depth', () => {
    const one = { name: 'Anna', extra: { phone: '+7 912', email: 'a@example.com' }, tags: [{ z: 1, y: 2 }] };
    const other = { tags: [{ y: 2, z: 1 }], extra: { email: 'a@example.com', phone: '+7 912' }, name: 'Anna' };
    expect(contentHash('s', one)).toBe(contentHash('s', other));
    expect(contentHash('s', one)).toBe(sha256('s\n{"extra":{"email":"a@example.com","phone":"+7 912"},"name":"Anna","tags":[{"y":2,"z":1}]}'));
  });

  it('ignores keys whose value is undefined', () => {
    expect(contentHash('s', { a: 1, b: undefined })).toBe(contentHash('s', { a: 1 }));
  });

  it('tells null from a missing key', () => {
    expect(contentHash('s', { a: 1, b: null })).not.toBe(contentHash('s', { a: 1 }));
  });

  it('depends on the order of array items', () => {
    expect(contentHash('s', { list: [1, 2] })).not.toBe(contentHash('s', { list: [2, 1] }));
  });

  it('differs with a different salt', () => {
    expect(contentHash('salt-1', { a: 1 })).not.toBe(contentHash('salt-2', { a: 1 }));
  });

  it('differs when a value changes', () => {
    expect(contentHash('s', { amount: '100' })).not.toBe(contentHash('s', { amount: '100.00' }));
  });
});
