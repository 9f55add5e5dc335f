import { describe, expect, it } from 'vitest';
import { contextFrom, traceparentOf } from './context.js';

describe('contextFrom', () => {
  it('starts a trace with fresh, distinct ids when there is none (across pool refills)', () => {
    const contexts = Array.from({ length: 2_000 }, () => contextFrom(undefined, undefined));
    for (const context of contexts) {
      expect(context.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(context.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(context.traceId).not.toMatch(/^0+$/);
    }
    expect(new Set(contexts.map((c) => c.traceId)).size).toBe(contexts.length);
    expect(new Set(contexts.map((c) => c.spanId)).size).toBe(contexts.length);
  });

  it("carries the caller's trace on under a span of its own, and drops malformed ones", () => {
    const parent = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
    const context = contextFrom('req-1', parent);
    expect(context).toMatchObject({ requestId: 'req-1', traceId: 'ab'.repeat(16), flags: '01' });
    expect(context.spanId).not.toBe('cd'.repeat(8));
    expect(traceparentOf(context)).toBe(`00-${'ab'.repeat(16)}-${context.spanId}-01`);
    const fresh = contextFrom('bad id with spaces', `00-${'0'.repeat(32)}-${'cd'.repeat(8)}-01`);
    expect(fresh.requestId).toBeUndefined();
    expect(fresh.traceId).not.toBe('0'.repeat(32));
  });
});
