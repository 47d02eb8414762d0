import { createPublicKey, type KeyObject } from 'node:crypto';
import { CloseCode } from 'canvas-store-protocol';
import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { AuthorizeInfo, AuthorizeResult } from '../../connection/accept-connection.js';
import { ConnectionRefusedError } from '../../connection/errors.js';
import { roomClaimMatches } from './room-pattern.js';

/** How tokens are verified. Exactly one key source. */
export interface JwtAuthOptions {
  /** HS256 shared secret. */
  secret?: string;
  /** RS256 or ES256 public key, PEM. */
  publicKeyPem?: string;
  /** JWKS endpoint for RS256/ES256 keys. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

/** Session metadata derived from a verified token. */
export interface TokenMetadata {
  /** The token's `sub`, when present. */
  userId?: string;
  /** The token's `name`, when present (shown to other users). */
  name?: string;
  /** When the token expires, in ms since the epoch. */
  expiresAt: number;
}

/** Verifies a token for a room; throws {@link ConnectionRefusedError} with the matching close code. */
export type Authorizer = (info: AuthorizeInfo) => Promise<AuthorizeResult<TokenMetadata>>;

/**
 * Builds an `authorize` function checking JWTs: signature (HS256 with a
 * secret, RS256/ES256 with a public key or a JWKS URL), `exp` (required),
 * optional `iss`/`aud`, a `room` claim naming the room (exact id or `*`
 * pattern) and a `permission` claim (`readwrite` or `readonly`, default
 * `readonly`). A token for another room is refused with `Forbidden`, an
 * expired one with `TokenExpired`, anything else with `Unauthorized`.
 *
 * @example
 * ```ts
 * const authorize = createJwtAuthorizer({ secret: process.env.JWT_SECRET });
 * acceptConnection({ socket, url, manager, authorize });
 * ```
 */
export function createJwtAuthorizer(options: JwtAuthOptions): Authorizer {
  const { key, algorithms } = verificationKey(options);
  return async ({ roomId, token }) => {
    const verifyOptions = {
      algorithms,
      issuer: options.issuer,
      audience: options.audience,
      requiredClaims: ['exp'],
    };
    let payload: JWTPayload;
    try {
      // jose has one overload for static keys and one for key-resolving functions (JWKS).
      ({ payload } =
        typeof key === 'function'
          ? await jwtVerify(token, key, verifyOptions)
          : await jwtVerify(token, key, verifyOptions));
    } catch (error) {
      if (error instanceof errors.JWTExpired) {
        throw new ConnectionRefusedError('token expired', CloseCode.TokenExpired);
      }
      throw new ConnectionRefusedError('invalid token', CloseCode.Unauthorized);
    }
    const room = payload.room;
    if (typeof room !== 'string' || !roomClaimMatches(room, roomId)) {
      throw new ConnectionRefusedError('token does not grant this room', CloseCode.Forbidden);
    }
    const permission = payload.permission ?? 'readonly';
    if (permission !== 'readonly' && permission !== 'readwrite') {
      throw new ConnectionRefusedError('token has an invalid permission claim', CloseCode.Unauthorized);
    }
    const metadata: TokenMetadata = { expiresAt: (payload.exp as number) * 1000 };
    if (typeof payload.sub === 'string') metadata.userId = payload.sub;
    if (typeof payload.name === 'string') metadata.name = payload.name;
    return { permissions: permission, metadata };
  };
}

function verificationKey(options: JwtAuthOptions): {
  key: Uint8Array | KeyObject | JWTVerifyGetKey;
  algorithms: string[];
} {
  if (options.secret) return { key: new TextEncoder().encode(options.secret), algorithms: ['HS256'] };
  if (options.publicKeyPem) {
    const key = createPublicKey(options.publicKeyPem);
    return { key, algorithms: key.asymmetricKeyType === 'ec' ? ['ES256'] : ['RS256'] };
  }
  if (options.jwksUrl)
    return { key: createRemoteJWKSet(new URL(options.jwksUrl)), algorithms: ['RS256', 'ES256'] };
  throw new TypeError('JWT auth needs a secret, a public key or a JWKS URL');
}
