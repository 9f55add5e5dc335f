import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

/**
 * Reports the production build's sizes, gzipped (level 9, as Vite's own report), after each
 * `vite build`: every file, and what the first page costs — the entry chunk, what it imports
 * statically, the CSS, and the lazy chunk of the home page (`firstPage`) with its own static
 * imports. Printed as a table and written to `<repo>/.tmp/dashboard-sizes.json`.
 */
export function buildSizes(options: { firstPage: string }): Plugin {
  let root = '';
  return {
    name: 'pdash-build-sizes',
    apply: 'build',
    configResolved(config) {
      root = config.root;
    },
    writeBundle(_output, bundle) {
      const files = new Map<string, { bytes: number; gzip: number; kind: 'js' | 'css' | 'other' }>();
      for (const item of Object.values(bundle)) {
        const content = item.type === 'chunk' ? item.code : item.source;
        const buffer = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
        const kind = item.fileName.endsWith('.js') ? 'js' : item.fileName.endsWith('.css') ? 'css' : 'other';
        files.set(item.fileName, { bytes: buffer.length, gzip: gzipSync(buffer, { level: 9 }).length, kind });
      }

      const chunks = Object.values(bundle).filter((item) => item.type === 'chunk');
      const byName = new Map(chunks.map((chunk) => [chunk.fileName, chunk]));
      const firstPageModule = resolve(root, options.firstPage);
      const staticClosure = (start: string[], into = new Set<string>()) => {
        for (const name of start) {
          if (into.has(name)) continue;
          into.add(name);
          staticClosure(byName.get(name)?.imports ?? [], into);
        }
        return into;
      };
      const entries = chunks.filter((chunk) => chunk.isEntry).map((chunk) => chunk.fileName);
      const page = chunks.filter((chunk) => chunk.facadeModuleId === firstPageModule).map((chunk) => chunk.fileName);
      if (page.length === 0) this.warn(`first page ${options.firstPage} is not a chunk of its own; is it lazy()?`);
      const firstPageJs = [...staticClosure([...entries, ...page])];
      const css = [...files].filter(([, file]) => file.kind === 'css').map(([name]) => name);
      const sum = (names: string[], key: 'bytes' | 'gzip') => names.reduce((total, name) => total + (files.get(name)?.[key] ?? 0), 0);
      const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

      const report = {
        firstPage: options.firstPage,
        firstPageJs: { files: firstPageJs, bytes: sum(firstPageJs, 'bytes'), gzip: sum(firstPageJs, 'gzip') },
        css: { files: css, bytes: sum(css, 'bytes'), gzip: sum(css, 'gzip') },
        allJs: {
          bytes: sum(
            chunks.map((c) => c.fileName),
            'bytes',
          ),
          gzip: sum(
            chunks.map((c) => c.fileName),
            'gzip',
          ),
        },
        files: Object.fromEntries([...files].sort(([a], [b]) => a.localeCompare(b))),
      };
      const lines = [
        '',
        'dashboard build sizes (gzip -9)',
        ...[...files]
          .filter(([, file]) => file.kind !== 'other')
          .sort(([, a], [, b]) => b.gzip - a.gzip)
          .map(([name, file]) => `  ${name.padEnd(44)} ${kb(file.bytes).padStart(10)}  gzip ${kb(file.gzip).padStart(9)}`),
        `  first page JS (${firstPageJs.length} files: entry, its imports, ${options.firstPage}): ${kb(report.firstPageJs.gzip)} gzipped`,
        `  CSS: ${kb(report.css.gzip)} gzipped; all JS: ${kb(report.allJs.gzip)} gzipped`,
      ];
      console.log(lines.join('\n'));
      const out = join(root, '..', '.tmp', 'dashboard-sizes.json');
      mkdirSync(join(out, '..'), { recursive: true });
      writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
      console.log(`  written to ${relative(process.cwd(), out)}\n`);
    },
  };
}
