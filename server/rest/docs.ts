// /api/docs: Swagger UI, its assets from node_modules (no CDN), under a CSP allowing only them.
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type Koa from 'koa';

const require = createRequire(import.meta.url);
const DIST = dirname(require.resolve('swagger-ui-dist/package.json'));
const { version } = require('swagger-ui-dist/package.json') as { version: string };

/** The files a browser may fetch from the package: nothing else of node_modules is reachable. */
const ASSETS: Record<string, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
};

// The page's start-up as a file, since the CSP allows no inline script. No validator badge (it would
// send the document to validator.swagger.io), no top bar to load other documents.
const INIT = `window.ui = SwaggerUIBundle({
  url: document.getElementById('swagger-ui').dataset.openapi,
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function page(base: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gatehouse REST API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${base}/docs/swagger-ui.css?v=${version}">
</head>
<body>
<noscript><p>This page needs JavaScript. The OpenAPI document is at <a href="${base}/openapi.json">${base}/openapi.json</a>.</p></noscript>
<div id="swagger-ui" data-openapi="${base}/openapi.json"></div>
<script src="${base}/docs/swagger-ui-bundle.js?v=${version}"></script>
<script src="${base}/docs/init.js?v=${version}"></script>
</body>
</html>
`;
}

/** Answers GET /docs and its assets (paths relative to the mount point); returns false for anything else. */
export function serveDocs(ctx: Koa.Context): boolean {
  if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !(ctx.path === '/docs' || ctx.path.startsWith('/docs/'))) return false;
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('Referrer-Policy', 'no-referrer');
  const file = ctx.path.slice('/docs/'.length);
  if (ctx.path === '/docs') {
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = 'text/html; charset=utf-8';
    // The mount point (/api), so the page and its links agree wherever the mirror is mounted.
    ctx.body = page((ctx as Koa.Context & { mountPath?: string }).mountPath ?? '');
  } else if (file === 'init.js') {
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = INIT;
  } else if (Object.hasOwn(ASSETS, file)) {
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.type = ASSETS[file]!;
    ctx.body = createReadStream(join(DIST, file));
  } else {
    ctx.status = 404;
    ctx.body = { error: { code: 'NOT_FOUND', message: 'Not found' } };
  }
  return true;
}
