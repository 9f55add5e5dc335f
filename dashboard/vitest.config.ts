import solid from 'vite-plugin-solid';
import { defineProject } from 'vitest/config';

/** Component tests: Solid's compiler, a jsdom window, no servers. Run as the `dashboard` project of the root config. */
export default defineProject({
  plugins: [solid()],
  test: {
    name: 'dashboard',
    root: import.meta.dirname,
    include: ['src/**/*.test.tsx', 'src/**/*.test.ts'],
    environment: 'jsdom',
    setupFiles: ['src/test-setup.ts'],
  },
});
