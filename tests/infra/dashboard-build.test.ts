import { statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { newestSourceMtime } from '@pdash/dashboard/build';
import { expect, test } from 'vitest';

// The dashboard bundles @pdash/contracts (its forms' rules and fields): a field added there must
// rebuild the dashboard that `npm start` and the e2e test serve. It once did not (only
// dashboard/src counted), and the e2e test met a form without the new field.
test('a change in a workspace package the dashboard bundles makes its build stale', () => {
  const file = join(import.meta.dirname, '../../contracts/parties.ts');
  const before = statSync(file);
  const later = new Date(Math.max(Date.now(), newestSourceMtime()) + 3_600_000);
  try {
    utimesSync(file, before.atime, later);
    expect(newestSourceMtime()).toBe(statSync(file).mtimeMs);
  } finally {
    utimesSync(file, before.atime, before.mtime);
  }
});
