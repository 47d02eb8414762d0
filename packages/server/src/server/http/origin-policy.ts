import type { IncomingMessage } from 'node:http';

/** What decides which browser pages may open a WebSocket (SPEC B10). */
interface OriginPolicyConfig {
  auth: 'none' | 'jwt';
  allowedOrigins: readonly string[];
  allowAnyOrigin: boolean;
}

/**
 * True when the upgrade request's `Origin` may connect. A listed origin
 * always may. With no list, JWT mode lets any origin in (the token is the
 * credential), but development mode (auth none, every token accepted) admits
 * only same-origin pages, so that a page on another site cannot open the
 * developer's boards from their browser, unless `allowAnyOrigin` says
 * otherwise. Clients that send no `Origin` (not browsers) are not affected
 * unless a list is configured.
 *
 * @example
 * ```ts
 * originAllowed(req, { auth: 'none', allowedOrigins: [], allowAnyOrigin: false });
 * ```
 */
export function originAllowed(req: IncomingMessage, config: OriginPolicyConfig): boolean {
  const origin = req.headers.origin;
  if (config.allowedOrigins.length > 0) return origin !== undefined && config.allowedOrigins.includes(origin);
  if (config.auth !== 'none' || config.allowAnyOrigin || origin === undefined) return true;
  return sameOrigin(origin, req.headers.host);
}

/** True when `origin` names the host (and port) the request was sent to. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host.toLowerCase();
  } catch {
    return false;
  }
}
