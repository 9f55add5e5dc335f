import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { noRoute, send } from './http.js';

/* Interactive docs at /api/docs: Swagger UI from the swagger-ui-dist package, no CDN, no inline script. */

const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist'));
const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>pdash API</title><link rel="stylesheet" href="/api/docs/swagger-ui.css"><link rel="icon" href="/api/docs/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div><script src="/api/docs/swagger-ui-bundle.js"></script><script src="/api/docs/init.js"></script></body>
</html>
`;
const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n`;
const DOCS_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};
const docsCache = new Map<string, Buffer>();

/** `/api/docs` and `/api/docs/<file>`; throws HttpProblem 404 for anything else. */
export async function serveDocs(res: ServerResponse, pathname: string) {
  const name = pathname.replace(/^\/api\/docs\/?/, '');
  const csp = {
    'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  };
  if (name === '') return send(res, 200, DOCS_PAGE, 'text/html; charset=utf-8', csp);
  if (name === 'init.js') return send(res, 200, DOCS_INIT, 'text/javascript; charset=utf-8');
  // Own keys only: `constructor` or `__proto__` is no file of ours.
  const type = Object.hasOwn(DOCS_FILES, name) ? DOCS_FILES[name] : undefined;
  if (!type) throw noRoute(pathname);
  let file = docsCache.get(name);
  if (!file) {
    file = await readFile(join(swaggerDir, name));
    docsCache.set(name, file);
  }
  res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=86400' });
  res.end(file);
}
