import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { generateSecret, MAX_ATTEMPTS, nextRetryDelayMs, parseRetryAfter, RETRY_DELAYS_MS, signPayload, webhookHeaders } from '../src/core/webhooks/index.js';

// The pure parts of webhooks out: the retry schedule and the Standard Webhooks signature.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

describe('retry schedule', () => {
  it('waits 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h steps, for about three days in all', () => {
    const middle = () => 0.5; // no jitter
    const delays = Array.from({ length: MAX_ATTEMPTS - 1 }, (_, index) => nextRetryDelayMs(index + 1, { random: middle }));
    expect(delays.slice(0, 7)).toEqual([5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR]);
    const total = delays.reduce((sum, delay) => sum! + delay!, 0)!;
    expect(total / (24 * HOUR)).toBeGreaterThan(2.5);
    expect(total / (24 * HOUR)).toBeLessThan(3.5);
    expect(nextRetryDelayMs(MAX_ATTEMPTS, { random: middle })).toBeNull();
  });

  it('adds at most ±10 % jitter', () => {
    expect(nextRetryDelayMs(2, { random: () => 0 })).toBe(0.9 * 5 * MINUTE);
    expect(nextRetryDelayMs(2, { random: () => 0.999999 })).toBeCloseTo(1.1 * 5 * MINUTE, -1);
  });

  it('never retries sooner than Retry-After, up to the longest step', () => {
    expect(nextRetryDelayMs(1, { random: () => 0.5, retryAfterMs: 120 * SECOND })).toBe(120 * SECOND);
    expect(nextRetryDelayMs(2, { random: () => 0.5, retryAfterMs: 1 * SECOND })).toBe(5 * MINUTE);
    expect(nextRetryDelayMs(1, { random: () => 0.5, retryAfterMs: 30 * 24 * HOUR })).toBe(Math.max(...RETRY_DELAYS_MS));
  });

  it('scales the whole schedule for tests and benchmarks, but not Retry-After', () => {
    expect(nextRetryDelayMs(1, { random: () => 0.5, scale: 0.001 })).toBe(5);
    expect(nextRetryDelayMs(1, { random: () => 0.5, scale: 0.001, retryAfterMs: 2 * SECOND })).toBe(2 * SECOND);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120 * SECOND);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:30 GMT', now)).toBe(90 * SECOND);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});

describe('Standard Webhooks signature', () => {
  it('is what the official library computes and accepts', () => {
    const secret = generateSecret();
    const body = JSON.stringify({ type: 'customer.updated', timestamp: '2026-01-01T00:00:00.000Z', data: { name: 'Иван Петров' } });
    const timestamp = Math.floor(Date.now() / 1000);
    const webhook = new Webhook(secret);
    expect(signPayload(secret, 'msg_1', timestamp, body)).toBe(webhook.sign('msg_1', new Date(timestamp * 1000), body));
    expect(webhook.verify(body, webhookHeaders([secret], 'msg_1', timestamp, body))).toEqual(JSON.parse(body));
  });

  it('carries one signature per secret during a rotation, and the library accepts either secret', () => {
    const [old, current] = [generateSecret(), generateSecret()];
    const body = '{"type":"sync_run.completed","timestamp":"2026-01-01T00:00:00.000Z","data":{}}';
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders([current, old], 'msg_2', timestamp, body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(old).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(current).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(current).verify(body.replace('{}', '{"x":1}'), headers)).toThrow();
  });

  it('makes secrets of 32 random bytes, whsec_-prefixed', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(generateSecret()).not.toBe(secret);
  });
});
