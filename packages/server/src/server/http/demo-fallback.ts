import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FallbackHandler } from '../canvas-store-server.js';

/**
 * Serves a small landing page at `/` until the demo whiteboard ships.
 * Returns false for paths it does not serve.
 */
export function createDemoFallback(_adminSecret: string | undefined): FallbackHandler {
  return (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (path !== '/' || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('canvas-store-server is running. Connect a canvas-store client to ws://<this host>/\n');
    return true;
  };
}
