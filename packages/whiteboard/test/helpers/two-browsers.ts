import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { BoardPage, BrowserSession, type RenderedShape, type Viewport } from './browser.js';
import { type ServerProcess, startServer } from './server-process.js';

/** The two window sizes every product test runs at: a laptop and a touch phone (iPhone SE). */
export const VIEWPORTS: readonly (Viewport & { name: string })[] = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 375, height: 667, hasTouch: true },
];

/** Per-test time limit of the browser suites, ms (a generous bound, not a performance claim). */
export const TEST_TIMEOUT_MS = 90_000;

/** A fresh room id for one test. */
export function newRoom(name: string): string {
  return `${name}-${randomUUID().slice(0, 8)}`;
}

/** The shape with `id`, if rendered. */
export function byId(shapes: readonly RenderedShape[], id: string): RenderedShape | undefined {
  return shapes.find((shape) => shape.id === id);
}

/** What {@link useTwoBrowsers} gives a suite. */
interface TwoBrowsers {
  /** Opens the board of `roomId` as `name` in browser A or B (separate profiles). */
  open(which: 'A' | 'B', roomId: string, name: string): Promise<BoardPage>;
  /** A fresh room (named after `name`) opened by Alice in browser A and Bob in browser B. */
  pair(name: string): Promise<{ room: string; a: BoardPage; b: BoardPage }>;
  /** Opens `path` (e.g. `/?room=x`) of the server, showing room `roomId`, in browser A or B. */
  openUrl(which: 'A' | 'B', path: string, roomId: string, label: string): Promise<BoardPage>;
  /** The server's `http://127.0.0.1:<port>`. */
  baseUrl(): string;
}

/**
 * Registers hooks that start one server and two chromium processes at
 * `viewport` for the enclosing `describe`, close each test's pages after it
 * (failing the test on any uncaught page error) and stop everything at the end.
 */
export function useTwoBrowsers(viewport: Viewport): TwoBrowsers {
  let server: ServerProcess | undefined;
  let browsers: { A: BrowserSession; B: BrowserSession } | undefined;
  const pages: BoardPage[] = [];

  beforeAll(async () => {
    server = await startServer();
    const [A, B] = await Promise.all([BrowserSession.launch(viewport), BrowserSession.launch(viewport)]);
    browsers = { A, B };
  }, 60_000);

  afterEach(async () => {
    const open = pages.splice(0);
    const errors = open.flatMap((board) => board.pageErrors.map((message) => `${board.label}: ${message}`));
    await Promise.all(open.map((board) => board.close()));
    expect(errors, 'uncaught errors in the pages').toEqual([]);
  });

  afterAll(async () => {
    await Promise.all([browsers?.A.close(), browsers?.B.close()]);
    await server?.stop();
  }, 60_000);

  return {
    async open(which, roomId, name) {
      if (!server || !browsers) throw new Error('the suite did not start');
      const board = await BoardPage.open(browsers[which], server.baseUrl, roomId, name);
      pages.push(board);
      return board;
    },
    async pair(name) {
      const room = newRoom(name);
      const a = await this.open('A', room, 'Alice');
      const b = await this.open('B', room, 'Bob');
      return { room, a, b };
    },
    async openUrl(which, path, roomId, label) {
      if (!server || !browsers) throw new Error('the suite did not start');
      const board = await BoardPage.openUrl(browsers[which], `${server.baseUrl}${path}`, roomId, label);
      pages.push(board);
      return board;
    },
    baseUrl() {
      if (!server) throw new Error('the suite did not start');
      return server.baseUrl;
    },
  };
}
