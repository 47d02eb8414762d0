/**
 * Configuration of the server command: invalid flags or variables exit with
 * status 2 and say what is wrong, flags win over variables, variables work,
 * and --help lists every option.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { OPTION_SPECS } from '../../../src/server/config/option-specs.js';
import { freePort } from '../../harness/free-port.js';
import {
  cleanup,
  runCli,
  ServerProcess,
  tempDir,
  type WireClient,
  waitUntil,
} from '../../harness/server-process.js';

afterEach(cleanup);

function listening(server: ServerProcess) {
  return server.logs().find((line) => line.msg === 'canvas-store-server listening');
}

interface BadConfig {
  name: string;
  args: string[];
  env?: Record<string, string>;
  /** What the message must name. */
  says: RegExp;
}

const BAD_CONFIGS: BadConfig[] = [
  { name: 'a port that is not a number', args: ['--port', 'abc'], says: /--port/ },
  { name: 'a port out of range', args: ['--port', '70000'], says: /port/ },
  { name: 'an unknown storage', args: ['--storage', 'nope'], says: /storage.*sqlite/ },
  {
    name: 'postgres storage without a URL',
    args: ['--storage', 'postgres'],
    says: /--postgres-url \(or DATABASE_URL\).*required with --storage postgres/,
  },
  {
    name: 'a JWT secret that is too short',
    args: ['--jwt-secret', 'short'],
    says: /--jwt-secret.*32 characters/,
  },
  { name: 'an unknown flag', args: ['--no-such-flag'], says: /unknown option '--no-such-flag'/ },
  { name: 'a stray argument', args: ['stray'], says: /stray|too many arguments/ },
  {
    name: 'a negative CANVAS_MAX_ROOMS',
    args: [],
    env: { CANVAS_MAX_ROOMS: '-1' },
    says: /CANVAS_MAX_ROOMS/,
  },
  { name: 'a PORT that is not a number', args: [], env: { PORT: 'eighty' }, says: /PORT/ },
  {
    name: 'a boolean variable that is not one',
    args: [],
    env: { CANVAS_SERVE_CLIENT: 'maybe' },
    says: /CANVAS_SERVE_CLIENT/,
  },
  { name: 'an unknown log level', args: ['--log-level', 'loud'], says: /--log-level/ },
  { name: 'a negative --idle-timeout', args: ['--idle-timeout', '-5'], says: /--idle-timeout/ },
  {
    name: 'a CANVAS_SHUTDOWN_TIMEOUT_MS that is not a number',
    args: [],
    env: { CANVAS_SHUTDOWN_TIMEOUT_MS: 'soon' },
    says: /CANVAS_SHUTDOWN_TIMEOUT_MS/,
  },
];

describe('[server] invalid configuration', () => {
  it.each(BAD_CONFIGS)('[server] $name exits with status 2 and says what is wrong', async (bad) => {
    // Should validation wrongly pass, the server must not take a real port.
    const loopback = bad.env?.PORT ? ['--host', '127.0.0.1'] : ['--port', '0', '--host', '127.0.0.1'];
    const result = await runCli([...loopback, ...bad.args], bad.env);
    expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 2 });
    expect(result.stderr).toMatch(/invalid configuration/);
    // One line a person can act on: no zod or commander internals.
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/Invalid input|expected number, received|Too small|Too big/);
    expect(result.stderr).toMatch(bad.says);
    // Users set flags and variables, never our internal keys (idleTimeoutMs, maxRooms...).
    expect(result.stderr).not.toMatch(
      /\b(idleTimeoutMs|maxRooms|postgresUrl|jwtSecret|logLevel|shutdownTimeoutMs)\b/,
    );
    expect(result.stdout).not.toMatch(/listening/);
  });
});

describe('[server] --help', () => {
  it('[server] prints every option with its variable and its default, and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: canvas-store-server/);
    // commander wraps long lines; join them back before looking for an option's text.
    const help = result.stdout.replace(/\n\s+/g, ' ');
    for (const spec of OPTION_SPECS) {
      expect(help).toContain(spec.flag.split(' ')[0]);
      expect(help).toContain(spec.env);
      if (spec.defaultText) expect(help).toContain(`default ${spec.defaultText}`);
    }
  });
});

describe('[server] environment variables', () => {
  it('[server] PORT, HOST and CANVAS_STORAGE configure the server when no flag is given', async () => {
    const port = await freePort();
    const server = await ServerProcess.start({
      loopbackFlags: false,
      env: { PORT: String(port), HOST: '127.0.0.1', CANVAS_STORAGE: 'memory', CANVAS_DATA_DIR: tempDir() },
    });
    expect(server.port).toBe(port);
    expect(listening(server)).toMatchObject({ host: '127.0.0.1', port, storage: 'memory' });
    const client = await server.connect('env-room', 'c1');
    await client.sync(0);
    expect(await client.write([{ 'a/b': { v: 1 } }])).toMatchObject({ type: 'ack', timestamp: 1 });
  });

  it('[server] DATABASE_URL gives the PostgreSQL URL', async () => {
    const server = await ServerProcess.start({
      env: { CANVAS_STORAGE: 'postgres', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' },
    });
    expect(listening(server)).toMatchObject({ storage: 'postgres' });
  });

  it('[B4] CANVAS_MAX_SESSIONS_PER_ROOM sets the room limit', async () => {
    const server = await ServerProcess.start({
      args: ['--storage', 'memory'],
      env: { CANVAS_MAX_SESSIONS_PER_ROOM: '1' },
    });
    const first = await server.connect('env-limit', 'c1');
    await first.sync(0);
    const second = await server.connect('env-limit', 'c2');
    expect((await second.closed()).code).toBe(4430);
  });
});

describe('[server] flags win over environment variables', () => {
  it('[server] --port, --storage and --max-sessions-per-room override their variables', async () => {
    const envPort = await freePort();
    const server = await ServerProcess.start({
      args: ['--storage', 'file', '--data-dir', tempDir(), '--max-sessions-per-room', '5'],
      env: { PORT: String(envPort), CANVAS_STORAGE: 'memory', CANVAS_MAX_SESSIONS_PER_ROOM: '1' },
    });
    expect(server.port).not.toBe(envPort);
    expect(listening(server)).toMatchObject({ storage: 'file' });
    const first = await server.connect('flag-limit', 'c1');
    await first.sync(0);
    const second = await server.connect('flag-limit', 'c2');
    await second.sync(0);
    expect(await second.write([{ 'a/b': { v: 2 } }])).toMatchObject({ type: 'ack', timestamp: 1 });
    expect(second.closeInfo).toBeUndefined();
  });

  it('[server] a valid flag does not rescue an invalid variable of another option', async () => {
    const result = await runCli(['--port', '0', '--storage', 'memory'], { CANVAS_MAX_FRAME_BYTES: 'big' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/CANVAS_MAX_FRAME_BYTES/);
  });
});

/** Connects to `roomId` until the server admits it (a full process refuses with 4431). */
function joinWhenAdmitted(server: ServerProcess, roomId: string, clientId: string): Promise<WireClient> {
  return waitUntil(`room ${roomId} admitted`, async () => {
    const client = await server.connect(roomId, clientId);
    try {
      await client.sync(0);
      return client;
    } catch {
      return undefined;
    }
  });
}

describe('[S3] the idle timeout of the command', () => {
  it.each<{ via: string; args: string[]; env: Record<string, string> }>([
    { via: '--idle-timeout', args: ['--idle-timeout', '100'], env: {} },
    { via: 'CANVAS_IDLE_TIMEOUT_MS', args: [], env: { CANVAS_IDLE_TIMEOUT_MS: '100' } },
  ])('[S3] ($via 100) closes an empty room, so --max-rooms 1 admits another room', async ({ args, env }) => {
    const server = await ServerProcess.start({
      args: ['--storage', 'memory', '--max-rooms', '1', ...args],
      env,
    });
    const first = await server.connect('room-a', 'a');
    await first.sync(0);
    await first.write([{ 'a/B': { _exists: true, v: 1 } }]);
    first.close();
    await first.closed();

    const second = await joinWhenAdmitted(server, 'room-b', 'b');
    expect(await second.write([{ 'b/B': { v: 2 } }])).toMatchObject({ type: 'ack', timestamp: 1 });
    second.close();
    await second.closed();
    // Room a was closed for idleness, not dropped: its write is still there when it reopens.
    const again = await joinWhenAdmitted(server, 'room-a', 'a2');
    const frames = again.frames.filter((f) => f.type === 'patch' && f.clientId === '');
    expect(frames.at(-1)?.documentPatches).toEqual([{ 'a/B': { _exists: true, v: 1 } }]);
  });
});
