import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BoardPage,
  BrowserSession,
  chromiumInstalled,
  eventually,
  saveScreenshot,
  wave,
} from './helpers/browser.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

/**
 * The inspector's timeline (SPEC H1, H2, H4) in chromium: scrubbing shows the
 * board as it was (drawn as shapes), one click restores it and the open
 * whiteboard converges to it, and the export downloads as a file.
 */

const ADMIN_SECRET = 'inspector-timeline-test-secret';

/** The room's clock, through the admin API. */
async function roomClock(server: ServerProcess, roomId: string): Promise<number> {
  const response = await fetch(`${server.baseUrl}/admin/rooms/${encodeURIComponent(roomId)}`, {
    headers: { authorization: `Bearer ${ADMIN_SECRET}` },
  });
  return ((await response.json()) as { clock: number }).clock;
}

/** Moves the timeline slider to `clock` as a user dragging it would (an `input` event). */
async function scrubTo(page: Page, clock: number): Promise<void> {
  await page.getByTestId('timeline').evaluate((element, value) => {
    (element as HTMLInputElement).value = String(value);
    element.dispatchEvent(new Event('input', { bubbles: true }));
  }, clock);
}

function previewShapes(page: Page): Promise<string | null> {
  return page.getByTestId('timeline-preview').getAttribute('data-shapes');
}

// The server's default storage (SQLite) keeps history, which the timeline shows.
describe.runIf(chromiumInstalled('inspector-timeline.test.ts'))('inspector timeline in chromium', () => {
  let server: ServerProcess;
  let browser: BrowserSession;

  beforeAll(async () => {
    server = await startServer({ adminSecret: ADMIN_SECRET });
    browser = await BrowserSession.launch({ width: 1280, height: 900 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  }, 60_000);

  it('[H1][H2][H4][whiteboard] scrub to a past board, restore it in one click, download the export', {
    timeout: 120_000,
  }, async () => {
    const room = `timeline-${randomUUID().slice(0, 8)}`;
    const board = await BoardPage.open(browser, server.baseUrl, room, 'Alice');
    await board.tool('rect');
    await board.color('#1971c2');
    await board.drag({ x: 200, y: 160 }, { x: 380, y: 280 });
    const first = await board.waitForShape({ kind: 'rect', color: '#1971c2' });
    await board.whenPersisted();
    const afterFirst = await roomClock(server, room);
    await board.color('#2f9e44');
    await board.drag({ x: 480, y: 200 }, { x: 620, y: 340 });
    await board.waitForShape({ kind: 'rect', color: '#2f9e44' }, (s) => s.color === '#2f9e44');
    await board.tool('pen');
    await board.color('#e03131');
    await board.stroke(wave({ x: 260, y: 420 }, 30));
    await board.waitForShape({ pointsCount: 30 }, (s) => s.kind === 'stroke');
    await board.whenPersisted();
    expect(await roomClock(server, room)).toBeGreaterThan(afterFirst);

    const inspector = await browser.context.newPage();
    const pageErrors: string[] = [];
    inspector.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await inspector.goto(`${server.baseUrl}/inspect?room=${encodeURIComponent(room)}`);
      await inspector.getByTestId('admin-secret').fill(ADMIN_SECRET);
      await inspector.getByTestId('admin-login').click();
      // The timeline opens at the live clock, with the three shapes drawn. The
      // page may still send a last write of the stroke, so compare with the
      // room's clock as it is when the label is read.
      await eventually(async () => {
        const shown = await inspector.getByTestId('timeline-label').getAttribute('data-clock');
        return shown === String(await roomClock(server, room));
      }).toBe(true);
      const live = await roomClock(server, room);
      await eventually(() => previewShapes(inspector)).toBe('3');
      expect(await inspector.getByTestId('timeline').getAttribute('max')).toBe(String(live));
      expect(await inspector.getByTestId('timeline-restore').isDisabled()).toBe(true);
      await saveScreenshot(inspector, '7-timeline-1-live');

      // Scrubbing back shows the board with only the first rectangle, as shapes.
      await scrubTo(inspector, afterFirst);
      await eventually(() => inspector.getByTestId('timeline-label').getAttribute('data-clock')).toBe(
        String(afterFirst),
      );
      await eventually(() => previewShapes(inspector)).toBe('1');
      const drawn = inspector.getByTestId('timeline-preview').locator(`[data-testid="shape-${first.id}"]`);
      expect(await drawn.getAttribute('data-color')).toBe('#1971c2');
      expect(await inspector.getByTestId('timeline-label').textContent()).toContain('1 shapes');
      await saveScreenshot(inspector, '7-timeline-2-scrubbed');

      // One click restores it; the open whiteboard converges to that board.
      await inspector.getByTestId('timeline-restore').click();
      await eventually(() => inspector.getByTestId('timeline-status').textContent()).toMatch(
        new RegExp(`^Restored to clock ${afterFirst}: the board is now at clock ${live + 1}\\.$`),
      );
      await eventually(async () => (await board.shapes()).map((s) => [s.id, s.color])).toEqual([
        [first.id, '#1971c2'],
      ]);
      await eventually(() => inspector.getByTestId('timeline-label').getAttribute('data-clock')).toBe(
        String(live + 1),
      );
      expect(await previewShapes(inspector)).toBe('1');
      await board.screenshot('7-timeline-3-whiteboard-restored');
      await saveScreenshot(inspector, '7-timeline-4-restored');

      // The export downloads as a file holding the restored room.
      const [download] = await Promise.all([
        inspector.waitForEvent('download'),
        inspector.getByTestId('download-export').click(),
      ]);
      expect(download.suggestedFilename()).toBe(`${room}.canvas-export.json`);
      const file = JSON.parse(readFileSync(await download.path(), 'utf8')) as {
        format: string;
        clock: number;
        components: Array<{ key: string; data: Record<string, unknown> }>;
      };
      expect(file.format).toBe('canvas-store-room-export');
      expect(file.clock).toBe(live + 1);
      const liveKeys = file.components.filter((c) => c.data._exists !== false).map((c) => c.key);
      expect(liveKeys).toEqual([`${first.id}/Shape`]);
      expect(pageErrors, 'uncaught errors in the inspector').toEqual([]);
      expect(board.pageErrors, 'uncaught errors in the whiteboard').toEqual([]);
    } finally {
      await Promise.all([inspector.close(), board.close()]);
    }
  });
});
