/**
 * The asymmetric key sources: an RS256 or ES256 public key given as PEM text
 * or as a file path (through `loadConfig`), and a JWKS URL served locally.
 * Each is checked for acceptance, permissions and every refusal code.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloseCode } from 'canvas-store-protocol';
import type { JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/server/config/load-config.js';
import {
  cleanupAll,
  makeTempDir,
  type StartedServer,
  shape,
  startConfigured,
  startServer,
  WireClient,
  waitUntil,
} from '../../harness/server-harness.js';
import {
  claims,
  epochIn,
  type KeyPair,
  makeKeyPair,
  pairToken,
  SECRET,
  sign,
  startJwksServer,
} from './token-helpers.js';

afterEach(cleanupAll);

let rsa: KeyPair;
let rsaOther: KeyPair;
let ec: KeyPair;
let ecOther: KeyPair;
let jwks: Awaited<ReturnType<typeof startJwksServer>>;

beforeAll(async () => {
  [rsa, rsaOther, ec, ecOther] = await Promise.all([
    makeKeyPair('RS256', 'rsa-1'),
    makeKeyPair('RS256', 'rsa-1'),
    makeKeyPair('ES256', 'ec-1'),
    makeKeyPair('ES256', 'ec-1'),
  ]);
  jwks = await startJwksServer([rsa.publicJwk, ec.publicJwk]);
});

afterAll(async () => {
  await jwks?.close();
});

/** HS256 token whose HMAC key is the public key PEM (the classic algorithm-confusion attack). */
function confusionToken(pair: KeyPair, payload: JWTPayload): Promise<string> {
  return sign(payload, new TextEncoder().encode(pair.publicPem), 'HS256');
}

interface KeySource {
  name: string;
  start(): Promise<StartedServer>;
  /** A key pair the server trusts. */
  pair(): KeyPair;
  /** Same algorithm, a key the server does not know (same kid). */
  untrusted(): KeyPair;
  /** A token signed with an algorithm the server does not accept for this source. */
  wrongAlg(payload: JWTPayload): Promise<string>;
}

const sources: KeySource[] = [
  {
    name: 'RS256 PEM text',
    start: () => startServer({ jwtPublicKey: rsa.publicPem }),
    pair: () => rsa,
    untrusted: () => rsaOther,
    wrongAlg: (payload) => pairToken(ec, payload),
  },
  {
    name: 'RS256 PEM file through loadConfig',
    start: () => {
      const file = join(makeTempDir('css-auth-pem-'), 'public.pem');
      writeFileSync(file, rsa.publicPem);
      const config = loadConfig(
        ['--port', '0', '--host', '127.0.0.1', '--storage', 'memory', '--log-level', 'silent'].concat([
          '--jwt-public-key',
          file,
        ]),
        {},
      );
      expect(config.auth).toBe('jwt');
      expect(config.jwtPublicKey?.trim()).toBe(rsa.publicPem.trim());
      return startConfigured(config);
    },
    pair: () => rsa,
    untrusted: () => rsaOther,
    wrongAlg: (payload) => confusionToken(rsa, payload),
  },
  {
    name: 'ES256 PEM text',
    start: () => startServer({ jwtPublicKey: ec.publicPem }),
    pair: () => ec,
    untrusted: () => ecOther,
    wrongAlg: (payload) => pairToken(rsa, payload),
  },
  {
    name: 'JWKS URL with an RS256 key',
    start: () => startServer({ jwtJwksUrl: jwks.url }),
    pair: () => rsa,
    untrusted: () => rsaOther,
    wrongAlg: (payload) => sign(payload, new TextEncoder().encode(SECRET), 'HS256', 'rsa-1'),
  },
  {
    name: 'JWKS URL with an ES256 key',
    start: () => startServer({ jwtJwksUrl: jwks.url }),
    pair: () => ec,
    untrusted: () => ecOther,
    wrongAlg: (payload) => confusionToken(ec, payload),
  },
];

const ROOM = 'room-1';

async function refusalCode(
  started: StartedServer,
  token: string,
  roomId = ROOM,
): Promise<number | undefined> {
  const client = await WireClient.refused(started.port, { roomId, clientId: 'intruder', token });
  expect(started.server.manager.getExistingRoom(roomId)?.getSessionCount() ?? 0).toBe(0);
  return client.closeCode;
}

for (const source of sources) {
  describe(`JWT key source: ${source.name}`, () => {
    it('[auth] a readwrite token is accepted and its write applied and broadcast', async () => {
      const started = await source.start();
      const token = await pairToken(source.pair(), claims(ROOM, { permission: 'readwrite', sub: 'u1' }));
      const observer = await WireClient.join(started.port, { roomId: ROOM, clientId: 'obs', token });
      const writer = await WireClient.join(started.port, { roomId: ROOM, clientId: 'w', token });
      expect(await writer.write('m1', [shape('e1/Shape', { x: 1 })])).toMatchObject({ timestamp: 1 });
      const broadcast = await observer.waitForFrame((f) => f.clientId === 'w', 'broadcast of m1');
      expect(broadcast.documentPatches).toEqual([{ 'e1/Shape': { _exists: true, x: 1 } }]);
      const sessions = started.server.manager.getExistingRoom(ROOM)?.getSessions() ?? [];
      expect(sessions.map((s) => [s.permissions, (s.metadata as { userId?: string }).userId])).toEqual([
        ['readwrite', 'u1'],
        ['readwrite', 'u1'],
      ]);
    });

    it('[A2] a readonly token is accepted; its write is acked but not applied', async () => {
      const started = await source.start();
      const token = await pairToken(source.pair(), claims(ROOM, { permission: 'readonly' }));
      const client = await WireClient.join(started.port, { roomId: ROOM, clientId: 'r', token });
      expect(await client.write('m1', [shape('e1/Shape', { x: 1 })])).toMatchObject({ timestamp: 0 });
      expect(started.server.manager.getExistingRoom(ROOM)?.getSnapshot().state).toEqual({});
    });

    it('[C2] a token signed by an untrusted key is refused with 4401', async () => {
      const started = await source.start();
      expect(await refusalCode(started, await pairToken(source.untrusted(), claims(ROOM)))).toBe(
        CloseCode.Unauthorized,
      );
    });

    it('[C2] a token with an algorithm this key source does not accept is refused with 4401', async () => {
      const started = await source.start();
      expect(await refusalCode(started, await source.wrongAlg(claims(ROOM)))).toBe(CloseCode.Unauthorized);
    });

    it('[C2] a token without exp is refused with 4401', async () => {
      const started = await source.start();
      const token = await pairToken(source.pair(), claims(ROOM, { exp: undefined }));
      expect(await refusalCode(started, token)).toBe(CloseCode.Unauthorized);
    });

    it('[C2] an expired token is refused with 4405, a token for another room with 4403', async () => {
      const started = await source.start();
      const expired = await pairToken(source.pair(), claims(ROOM, { exp: epochIn(-30) }));
      expect(await refusalCode(started, expired)).toBe(CloseCode.TokenExpired);
      const elsewhere = await pairToken(source.pair(), claims('room-2'));
      expect(await refusalCode(started, elsewhere)).toBe(CloseCode.Forbidden);
    });

    it('[C5] auth-refresh with a token of this source replaces permissions; a bad one closes with 4403', async () => {
      const started = await source.start();
      const client = await WireClient.join(started.port, {
        roomId: ROOM,
        clientId: 'c',
        token: await pairToken(source.pair(), claims(ROOM, { permission: 'readwrite' })),
      });
      const readonly = await pairToken(source.pair(), claims(ROOM, { permission: 'readonly' }));
      client.send({ type: 'auth-refresh', token: readonly });
      expect(await client.write('m1', [shape('e1/Shape', { x: 1 })])).toMatchObject({ timestamp: 0 });
      expect(started.server.manager.getExistingRoom(ROOM)?.getSessions()[0]?.permissions).toBe('readonly');
      client.send({ type: 'auth-refresh', token: await pairToken(source.untrusted(), claims(ROOM)) });
      expect(await client.waitForClose()).toBe(CloseCode.Forbidden);
      await waitUntil(
        () => started.server.manager.getExistingRoom(ROOM)?.getSessionCount() === 0,
        'the session to be removed',
      );
    });
  });
}

describe('JWT key source: loadConfig with a PEM path', () => {
  it('[auth] an unreadable key file is a configuration error naming the option', () => {
    const missing = join(makeTempDir('css-auth-pem-'), 'missing.pem');
    expect(() => loadConfig(['--jwt-public-key', missing], {})).toThrow(
      /--jwt-public-key: cannot read the key file/,
    );
  });

  it('[auth] CANVAS_JWT_PUBLIC_KEY may name a PEM file as well', async () => {
    const file = join(makeTempDir('css-auth-pem-'), 'ec.pem');
    writeFileSync(file, ec.publicPem);
    const config = loadConfig(['--port', '0', '--host', '127.0.0.1', '--storage', 'memory'], {
      CANVAS_JWT_PUBLIC_KEY: file,
      LOG_LEVEL: 'silent',
    });
    const started = await startConfigured(config);
    const client = await WireClient.join(started.port, {
      roomId: ROOM,
      clientId: 'c',
      token: await pairToken(ec, claims(ROOM)),
    });
    expect(await client.write('m1', [shape('e1/Shape', { x: 1 })])).toMatchObject({ timestamp: 1 });
  });
});

describe('JWT key source: JWKS endpoint', () => {
  it('[auth] the server fetches keys from the configured JWKS URL', async () => {
    const before = jwks.requests();
    const started = await startServer({ jwtJwksUrl: jwks.url });
    await WireClient.join(started.port, {
      roomId: ROOM,
      clientId: 'c',
      token: await pairToken(rsa, claims(ROOM)),
    });
    expect(jwks.requests()).toBeGreaterThan(before);
  });

  it('[auth] an unreachable JWKS URL refuses connections with 4401 and the server keeps serving', async () => {
    const gone = await startJwksServer([rsa.publicJwk]);
    await gone.close();
    const started = await startServer({ jwtJwksUrl: gone.url, adminSecret: 'admin-secret-0123456789' });
    expect(await refusalCode(started, await pairToken(rsa, claims(ROOM)))).toBe(CloseCode.Unauthorized);
    const health = await fetch(`http://127.0.0.1:${started.port}/healthz`);
    expect(health.status).toBe(200);
  });
});
