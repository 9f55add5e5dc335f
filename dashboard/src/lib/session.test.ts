import { describe, expect, it } from 'vitest';
import { loginPath, safeNext } from './session';

describe('where to go after logging in', () => {
  it('keeps a path of this site, with its query', () => {
    expect(safeNext('/customers')).toBe('/customers');
    expect(safeNext('/customers/65f0a1b2c3d4e5f6a7b8c9d0?tab=orders')).toBe('/customers/65f0a1b2c3d4e5f6a7b8c9d0?tab=orders');
  });

  it('never leaves the site (no open redirect) and never loops back to the login pages', () => {
    for (const next of [
      'https://evil.example',
      '//evil.example',
      '/\\evil.example',
      'javascript:alert(1)',
      '/login',
      '/signup?next=/x',
      '',
      undefined,
    ]) {
      expect(safeNext(next), String(next)).toBe('/');
    }
  });

  it('puts the current page into the login address', () => {
    expect(loginPath('/stats?days=7')).toBe('/login?next=%2Fstats%3Fdays%3D7');
    expect(loginPath('/')).toBe('/login');
  });
});
