/**
 * Token minting for the auth tests: an HS256 secret, RS256/ES256 key pairs
 * and a local JWKS endpoint on node:http.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from 'jose';

export const SECRET = 'test-secret-of-at-least-thirty-two-characters!';
export const OTHER_SECRET = 'another-secret-of-at-least-thirty-two-chars!!';

/** Seconds since the epoch, `offsetSeconds` from now. */
export function epochIn(offsetSeconds: number): number {
  return Math.floor(Date.now() / 1000) + offsetSeconds;
}

/** Claims of a token that grants `room`; `exp` defaults to an hour ahead (pass `exp: undefined` to omit it). */
export function claims(room: string, extra: JWTPayload = {}): JWTPayload {
  return { room, permission: 'readwrite', exp: epochIn(3600), ...extra };
}

type SigningKey = Uint8Array | CryptoKey;

/** Signs `payload` (every claim as given; `undefined` values are dropped). */
export async function sign(
  payload: JWTPayload,
  key: SigningKey,
  alg: 'HS256' | 'RS256' | 'ES256',
  kid?: string,
): Promise<string> {
  const body = Object.fromEntries(Object.entries(payload).filter(([, value]) => value !== undefined));
  return new SignJWT(body).setProtectedHeader(kid ? { alg, kid } : { alg }).sign(key);
}

/** The HS256 key of `secret`. */
function hsKey(secret = SECRET): Uint8Array {
  return new TextEncoder().encode(secret);
}

/** HS256 token signed with {@link SECRET}. */
export function hsToken(payload: JWTPayload, secret = SECRET): Promise<string> {
  return sign(payload, hsKey(secret), 'HS256');
}

/** An asymmetric key pair and its public key as PEM and JWK. */
export interface KeyPair {
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicPem: string;
  publicJwk: Record<string, unknown>;
}

export async function makeKeyPair(alg: 'RS256' | 'ES256', kid = `${alg}-key`): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicPem = await exportSPKI(publicKey);
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, privateKey, publicPem, publicJwk };
}

/** A token signed with the pair's private key (and its `kid`). */
export function pairToken(pair: KeyPair, payload: JWTPayload): Promise<string> {
  return sign(payload, pair.privateKey, pair.alg, pair.publicJwk.kid as string);
}

/** A JWKS endpoint on 127.0.0.1 serving `keys` at /.well-known/jwks.json. */
export async function startJwksServer(keys: Array<Record<string, unknown>>): Promise<{
  url: string;
  requests: () => number;
  close: () => Promise<void>;
}> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests: () => requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
