import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Two cores: more parallel files only make them fight over FerretDB.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'backend',
          include: ['proto/**/*.test.ts', 'backend/**/*.test.ts', 'bff/**/*.test.ts', 'tests/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      // Component tests in jsdom, with the Solid compiler (dashboard/vitest.config.ts).
      'dashboard/vitest.config.ts',
    ],
  },
});
