import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';
import { buildSizes } from './build/sizes';

/** `npm run dev`: hot reload, the API proxied to a running stack (`npm start`, port PDASH_PORT). */
const stack = `http://127.0.0.1:${process.env.PDASH_PORT ?? 8080}`;

export default defineConfig({
  plugins: [solid(), buildSizes({ firstPage: 'src/pages/Orders.tsx' })],
  server: {
    // The Host header stays the dev server's, so the BFF's same-origin check (Origin vs Host) holds.
    proxy: { '/trpc': stack, '/api': stack, '/healthz': stack },
  },
  build: {
    target: 'es2022',
    outDir: 'dist',
    assetsDir: 'assets',
  },
});
