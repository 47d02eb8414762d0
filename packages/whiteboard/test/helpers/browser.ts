import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

/**
 * Polls `read` (every 50 ms, for up to {@link WAIT_MS}) until the assertion
 * chained after it holds: the suite waits for conditions, never for fixed times.
 */
export function eventually<T>(read: () => T | Promise<T>, message?: string) {
  return expect.poll(read, { timeout: WAIT_MS, interval: 50, message });
}

/** Debian's chromium; the tests never download a browser of their own. */
const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Screenshots of every step land here (gitignored). */
const ARTIFACTS_DIR = fileURLToPath(new URL('../artifacts/', import.meta.url));

/** Generous limit for anything the tests wait for (sync, broadcasts, reconnects), ms. */
const WAIT_MS = 20_000;

/**
 * True when {@link CHROMIUM_PATH} exists. Without it the suite fails on CI
 * (which installs chromium with apt) and is skipped elsewhere, saying why.
 */
export function chromiumInstalled(suite: string): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  const ci = process.env.CI;
  if (ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0') {
    throw new Error(
      `${suite}: ${CHROMIUM_PATH} is missing. CI must install Debian's chromium ` +
        '(apt-get install chromium); the browser tests never download a browser.',
    );
  }
  console.warn(
    `[browser tests] skipping ${suite}: ${CHROMIUM_PATH} is missing. ` +
      'Install it with `apt-get install chromium` to run the browser tests.',
  );
  return false;
}

/** A window size, and whether the page gets touch input (phones). */
export interface Viewport {
  width: number;
  height: number;
  hasTouch?: boolean;
}

/** One chromium process with its own fresh profile (own IndexedDB, localStorage, cookies). */
export class BrowserSession {
  private constructor(
    readonly context: BrowserContext,
    private readonly profileDir: string,
  ) {}

  /** `viewport`: the window size of every page (default 1280x720). */
  static async launch(viewport: Viewport = { width: 1280, height: 720 }): Promise<BrowserSession> {
    const profileDir = mkdtempSync(join(tmpdir(), 'whiteboard-test-profile-'));
    try {
      const context = await chromium.launchPersistentContext(profileDir, {
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: viewport.width, height: viewport.height },
        hasTouch: viewport.hasTouch ?? false,
      });
      context.setDefaultTimeout(WAIT_MS);
      for (const page of context.pages()) await page.close();
      return new BrowserSession(context, profileDir);
    } catch (error) {
      rmSync(profileDir, { recursive: true, force: true });
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
    rmSync(this.profileDir, { recursive: true, force: true });
  }
}

/** A shape as the board renders it (`shape-<id>` and its data attributes). */
export interface RenderedShape {
  id: string;
  kind: string;
  x: number;
  y: number;
  w: number;
  h: number;
  color: string;
  pointsCount: number;
  /** The stroke's polyline `points` attribute (empty for rectangles). */
  polyline: string;
  /** A text shape's text (empty for other shapes). */
  text: string;
}

/** An element as {@link BoardPage.probe} reads it. */
interface Probe {
  text: string;
  attrs: Record<string, string>;
  /** The inline `style.transform` (cursors are placed with it). */
  transform: string;
  visible: boolean;
}

/** A point on the board (= client coordinates). */
export interface Point {
  x: number;
  y: number;
}

/** Waits a little between mouse moves so a drag spans several throttled writes. */
function pace(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The centre of a rendered shape's box. */
export function centerOf(shape: RenderedShape): Point {
  return { x: shape.x + shape.w / 2, y: shape.y + shape.h / 2 };
}

/** A whiteboard tab, driven through its test ids. */
export class BoardPage {
  /** Text of every WebSocket frame this page sent, in order. */
  readonly sentFrames: string[] = [];
  /** Uncaught errors of the page. */
  readonly pageErrors: string[] = [];
  /** The URL of every WebSocket this page opened. */
  readonly socketUrls: string[] = [];

  private constructor(
    readonly page: Page,
    readonly label: string,
    readonly roomId: string,
  ) {
    page.on('pageerror', (error) => this.pageErrors.push(error.message));
    page.on('websocket', (socket) => {
      this.socketUrls.push(socket.url());
      socket.on('framesent', ({ payload }) => {
        this.sentFrames.push(typeof payload === 'string' ? payload : payload.toString('utf8'));
      });
    });
  }

  /** Opens `/?roomId=<roomId>&name=<name>` in a new tab of `browser`. */
  static async open(
    browser: BrowserSession,
    baseUrl: string,
    roomId: string,
    name: string,
    label: string = name,
  ): Promise<BoardPage> {
    const query = new URLSearchParams({ roomId, name });
    return BoardPage.openUrl(browser, `${baseUrl}/?${query}`, roomId, label);
  }

  /** Opens the page at `url` (which should show room `roomId`) in a new tab and waits until synced. */
  static async openUrl(
    browser: BrowserSession,
    url: string,
    roomId: string,
    label: string,
  ): Promise<BoardPage> {
    const page = await browser.context.newPage();
    const board = new BoardPage(page, label, roomId);
    await page.goto(url);
    await board.waitSynced();
    return board;
  }

  /**
   * Reads the element with `data-testid=testId` as it is right now (no
   * auto-waiting, so it suits polls): its text, attributes, inline transform
   * and visibility, or null when there is none.
   */
  async probe(testId: string): Promise<Probe | null> {
    return this.page.evaluate((id) => {
      const element = document.querySelector<HTMLElement>(`[data-testid="${CSS.escape(id)}"]`);
      if (!element) return null;
      const attrs: Record<string, string> = {};
      for (const attr of Array.from(element.attributes)) attrs[attr.name] = attr.value;
      return {
        text: (element.textContent ?? '').trim(),
        attrs,
        transform: element.style.transform,
        visible: element.checkVisibility(),
      };
    }, testId);
  }

  /** An attribute of the element with `data-testid=testId` right now (null: no element or attribute). */
  async attr(testId: string, name: string): Promise<string | null> {
    return (await this.probe(testId))?.attrs[name] ?? null;
  }

  /** The trimmed text of the element with `data-testid=testId` right now (null: no element). */
  async text(testId: string): Promise<string | null> {
    return (await this.probe(testId))?.text ?? null;
  }

  /** Waits until the status says online and synced. */
  async waitSynced(): Promise<void> {
    await this.waitStatus('online', 'true');
  }

  /** Waits until the status element shows `status` (and `synced`, when given). */
  async waitStatus(status: string, synced?: 'true' | 'false'): Promise<void> {
    await eventually(() => this.attr('status', 'data-status')).toBe(status);
    if (synced !== undefined) {
      await eventually(() => this.attr('status', 'data-synced')).toBe(synced);
    }
  }

  /** This tab's client id, from the `window.__whiteboard` test hook. */
  async clientId(): Promise<string> {
    return this.page.evaluate(() => {
      const hook = (window as unknown as { __whiteboard?: { client: { clientId: string } } }).__whiteboard;
      if (!hook) throw new Error('window.__whiteboard is missing');
      return hook.client.clientId;
    });
  }

  /** Resolves once the client stored every change so far in IndexedDB. */
  async whenPersisted(): Promise<void> {
    await this.page.evaluate(async () => {
      const hook = (window as unknown as { __whiteboard?: { client: { whenPersisted(): Promise<void> } } })
        .__whiteboard;
      if (!hook) throw new Error('window.__whiteboard is missing');
      await hook.client.whenPersisted();
    });
  }

  /** The shapes on the board, sorted by id. */
  async shapes(): Promise<RenderedShape[]> {
    const shapes = await this.page.$$eval('[data-testid^="shape-"]', (elements) =>
      elements.map((element) => {
        const number = (name: string) => Number(element.getAttribute(name));
        return {
          id: (element.getAttribute('data-testid') ?? '').slice('shape-'.length),
          kind: element.getAttribute('data-kind') ?? '',
          x: number('data-x'),
          y: number('data-y'),
          w: number('data-w'),
          h: number('data-h'),
          color: element.getAttribute('data-color') ?? '',
          pointsCount: number('data-points-count'),
          polyline: element.querySelector('polyline')?.getAttribute('points')?.trim() ?? '',
          text: element.getAttribute('data-text') ?? '',
        };
      }),
    );
    return shapes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * Polls until exactly one shape is accepted by `match` and it has the
   * `expected` attributes (drawing renders once per animation frame); returns it.
   */
  async waitForShape(
    expected: Partial<RenderedShape>,
    match: (shape: RenderedShape) => boolean = () => true,
  ): Promise<RenderedShape> {
    let found: RenderedShape | undefined;
    await eventually(
      async () => {
        const shapes = (await this.shapes()).filter(match);
        found = shapes[0];
        return shapes;
      },
      `${this.label}: one shape like ${JSON.stringify(expected)}`,
    ).toMatchObject([expected]);
    return found as RenderedShape;
  }

  async click(testId: string): Promise<void> {
    await this.page.getByTestId(testId).click();
  }

  /** Picks a tool and checks the toolbar shows it active. */
  async tool(name: 'rect' | 'pen' | 'select' | 'hand' | 'text'): Promise<void> {
    await this.click(`tool-${name}`);
    await eventually(() => this.attr(`tool-${name}`, 'aria-pressed')).toBe('true');
  }

  /** Picks a palette colour, e.g. `'#e03131'`. */
  async color(hex: string): Promise<void> {
    await this.click(`color-${hex.replace('#', '')}`);
  }

  /** Presses at `from`, drags to `to` in `steps` moves and releases (the active tool acts). */
  async drag(from: Point, to: Point, steps = 12): Promise<void> {
    const { mouse } = this.page;
    await mouse.move(from.x, from.y);
    await mouse.down();
    for (let i = 1; i <= steps; i++) {
      await mouse.move(from.x + ((to.x - from.x) * i) / steps, from.y + ((to.y - from.y) * i) / steps);
      await pace(10);
    }
    await mouse.up();
  }

  /** Draws a freehand line through `points` (press at the first, release at the last). */
  async stroke(points: readonly Point[]): Promise<void> {
    const { mouse } = this.page;
    const [first, ...rest] = points;
    if (!first) throw new Error('a stroke needs points');
    await mouse.move(first.x, first.y);
    await mouse.down();
    for (const point of rest) {
      await mouse.move(point.x, point.y);
      await pace(10);
    }
    await mouse.up();
  }

  /** Saves a screenshot as `artifacts/<name>.png`. */
  async screenshot(name: string): Promise<void> {
    await saveScreenshot(this.page, name);
  }

  async close(): Promise<void> {
    await this.page.close().catch(() => undefined);
  }
}

/** Saves a screenshot of `page` as `artifacts/<name>.png`. */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`) });
}

/** Polls until both boards render the same shapes; returns them. */
export async function expectSameBoards(a: BoardPage, b: BoardPage): Promise<RenderedShape[]> {
  let latest: RenderedShape[] = [];
  await eventually(async () => {
    const [left, right] = await Promise.all([a.shapes(), b.shapes()]);
    latest = left;
    return JSON.stringify(left) === JSON.stringify(right) ? 'same' : { [a.label]: left, [b.label]: right };
  }, `${a.label} and ${b.label} show the same shapes`).toBe('same');
  return latest;
}

/** A wavy line of `count` points from `start`, `step` px apart horizontally. */
export function wave(start: Point, count: number, step = 8, amplitude = 40): Point[] {
  return Array.from({ length: count }, (_, i) => ({
    x: start.x + i * step,
    y: Math.round(start.y + amplitude * Math.sin(i / 4)),
  }));
}
