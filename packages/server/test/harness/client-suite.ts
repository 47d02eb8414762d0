/**
 * The per-test setup shared by the suites that run the published client
 * against an in-process {@link TestServer}: the adapter's environment is
 * installed before each test; after it, every client the test opened is
 * closed (which stops the adapters' reconnect timers), then every server is
 * stopped, then the environment is restored and temporary directories removed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import {
  type ClientEnvironment,
  installClientEnvironment,
  TestClient,
  type TestServer,
} from './client-harness.js';

/** Anything a test opens that must be closed after it: published adapters, raw sockets, our client. */
interface Closable {
  close(): unknown;
}

/** What one test of a client suite opened, cleaned up after it. */
export class ClientSuite {
  private env: ClientEnvironment | undefined;
  private closables: Closable[] = [];
  private servers: TestServer[] = [];
  private dirs: string[] = [];

  /** Hooks the setup and clean-up around every test of the calling file. */
  static install(): ClientSuite {
    const suite = new ClientSuite();
    beforeEach(() => {
      suite.env = installClientEnvironment();
    });
    afterEach(() => suite.tearDown());
    return suite;
  }

  /** The published adapter's environment of the running test. */
  get environment(): ClientEnvironment {
    if (!this.env) throw new Error('client environment not installed');
    return this.env;
  }

  /** Restores the globals early, for a test that runs only our client on plain `ws`. */
  restoreEnvironment(): void {
    this.env?.restore();
    this.env = undefined;
  }

  /** Starts `server`; it is stopped after the test. */
  async start(server: TestServer): Promise<TestServer> {
    this.servers.push(server);
    await server.start();
    return server;
  }

  /** Closes `closable` after the test, before the servers stop. */
  closeAfter<T extends Closable>(closable: T): T {
    this.closables.push(closable);
    return closable;
  }

  /** A published client of `roomId` on `server` (not connected yet), closed after the test. */
  client(server: TestServer, roomId: string, clientId: string): TestClient {
    return this.closeAfter(new TestClient(clientId, roomId, server.url, this.environment));
  }

  /** A new temporary directory, removed after the test. */
  async tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  private async tearDown(): Promise<void> {
    const { closables, servers, dirs } = this;
    this.closables = [];
    this.servers = [];
    this.dirs = [];
    await Promise.all(closables.map((closable) => closable.close()));
    for (const server of servers) await server.stop();
    this.restoreEnvironment();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
