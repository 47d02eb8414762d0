import type { IncomingMessage } from 'node:http';
import type { AuthorizeInfo, AuthorizeResult } from '../../connection/accept-connection.js';
import type { ServerConfig } from '../config/server-config.js';
import { createJwtAuthorizer } from './jwt-authorizer.js';

/** How the runnable server decides who may connect, and with which permissions. */
export type Authorize = (
  info: AuthorizeInfo<IncomingMessage>,
) => Promise<AuthorizeResult<Record<string, unknown>>>;

/**
 * The authorizer for the configured auth mode: JWT verification, or (auth none,
 * development only) read-write access for every token.
 */
export function createAuthorize(config: ServerConfig): Authorize {
  if (config.auth === 'jwt') {
    const verify = createJwtAuthorizer({
      secret: config.jwtSecret,
      publicKeyPem: config.jwtPublicKey,
      jwksUrl: config.jwtJwksUrl,
      issuer: config.jwtIssuer,
      audience: config.jwtAudience,
    });
    return async (info) => {
      const result = await verify(info);
      return { permissions: result.permissions, metadata: { ...result.metadata } };
    };
  }
  return async () => ({ permissions: 'readwrite', metadata: {} });
}
