import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FallbackHandler } from '../canvas-store-server.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** Pages served at fixed paths; everything else must be a file under the directory. */
const PAGES: Record<string, string> = { '/': 'index.html', '/inspect': 'inspect.html' };

/**
 * The Content-Security-Policy of the pages: scripts, styles and images from
 * this server only, WebSockets to this server or the one `?server=` names, and
 * no framing by other sites (`frame-ancestors 'none'`), so that a page
 * elsewhere cannot overlay the whiteboard or the inspector (clickjacking).
 */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Where the built whiteboard lives inside the server package (`packages/server/public`). */
const PUBLIC_DIR = fileURLToPath(new URL('../../../public/', import.meta.url));

/**
 * Serves the built demo whiteboard (`/`) and inspector (`/inspect`) from
 * `dir`: GET/HEAD only, no directory listings, nothing outside `dir`. When
 * the page was not built, `/` explains how to build it.
 */
export function createStaticFiles(dir: string = PUBLIC_DIR): FallbackHandler {
  const root = normalize(dir.endsWith(sep) ? dir : `${dir}${sep}`);
  return async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let relative: string;
    try {
      relative = PAGES[path] ?? decodeURIComponent(path).replace(/^\/+/, '');
    } catch {
      return false;
    }
    const file = normalize(join(root, relative));
    if (!file.startsWith(root) || relative === '') return false;
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) {
      if (path !== '/') return false;
      res.writeHead(200, {
        'content-type': 'text/plain; charset=utf-8',
        'content-security-policy': PAGE_CSP,
      });
      res.end('canvas-store-server is running. The whiteboard page is not built: run `npm run build`.\n');
      return true;
    }
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': info.size,
      // Vite fingerprints assets; pages must be revalidated so new builds show up.
      'cache-control': relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
      ...(extname(file) === '.html'
        ? { 'content-security-policy': PAGE_CSP, 'x-frame-options': 'DENY' }
        : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    createReadStream(file).pipe(res);
    return true;
  };
}
