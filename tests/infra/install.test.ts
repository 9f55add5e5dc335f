import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ferretdbBinary } from '@pdash/scripts/infra';
import { expect, test } from 'vitest';

const script = join(import.meta.dirname, '../../scripts/ferretdb-version.sh');

// install-infra.sh ended with `ferretdb --version | head -1` under pipefail: when head exited
// first, FerretDB died of SIGPIPE and the script failed (6 of 100 runs, so npm start and CI died at
// random). 100 runs of the step that replaced it: at that rate the old one fails here 99 times in 100.
test('the infra step that prints FerretDB’s version never fails, 100 times in a row', () => {
  const bin = ferretdbBinary();
  const failures: string[] = [];
  for (let i = 0; i < 100; i++) {
    const run = spawnSync('bash', [script, bin], { encoding: 'utf8' });
    if (run.status !== 0 || run.stdout !== 'version: v1.24.2\n') failures.push(`run ${i}: ${run.status} ${run.stdout}${run.stderr}`);
  }
  expect(failures).toEqual([]);
});
