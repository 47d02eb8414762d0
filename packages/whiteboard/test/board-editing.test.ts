import { describe, expect, it } from 'vitest';
import { type BoardPage, centerOf, chromiumInstalled, eventually } from './helpers/browser.js';
import { type Box, boxes, overlap } from './helpers/layout.js';
import { byId, TEST_TIMEOUT_MS, useTwoBrowsers, VIEWPORTS } from './helpers/two-browsers.js';

/**
 * Editing features of the whiteboard, in two chromium processes, at a laptop
 * and a phone window size: undo/redo through the protocol, the text tool and
 * the saved/unsaved indicator. Screenshots go to test/artifacts/.
 */

/** The document patches of every `patch` frame `board` sent after its `from`-th frame. */
function sentPatches(board: BoardPage, from: number): Record<string, Record<string, unknown>>[] {
  return board.sentFrames.slice(from).flatMap((text) => {
    const frame = JSON.parse(text) as {
      type?: string;
      documentPatches?: Record<string, Record<string, unknown>>[];
    };
    return frame.type === 'patch' ? (frame.documentPatches ?? []) : [];
  });
}

/** Starts recording every label the save indicator of `board` shows (read with {@link saveLabels}). */
async function recordSaveLabels(board: BoardPage): Promise<void> {
  await board.page.evaluate(() => {
    const element = document.querySelector('[data-testid="save-state"]') as HTMLElement;
    const labels: string[] = [];
    (window as unknown as { __saveLabels: string[] }).__saveLabels = labels;
    new MutationObserver((records) => {
      for (const record of records) {
        for (const node of Array.from(record.addedNodes)) labels.push(node.textContent ?? '');
      }
    }).observe(element, { childList: true });
  });
}

async function saveLabels(board: BoardPage): Promise<string[]> {
  return board.page.evaluate(() => (window as unknown as { __saveLabels: string[] }).__saveLabels);
}

describe.runIf(chromiumInstalled('board-editing.test.ts')).each(VIEWPORTS)(
  'whiteboard editing at $name size ($width x $height)',
  (viewport) => {
    const boards = useTwoBrowsers(viewport);
    const shot = (board: BoardPage, name: string) => board.screenshot(`editing-${viewport.name}-${name}`);

    it(
      "[D4][D5][whiteboard] undo and redo are edits: B sees the rectangle go and come back, and a move undone keeps B's recolour",
      async () => {
        const { a, b } = await boards.pair('undo');
        expect(await a.attr('undo', 'disabled'), 'nothing to undo yet').toBe('');

        await a.tool('rect');
        await a.color('#e03131');
        await a.drag({ x: 80, y: 220 }, { x: 240, y: 320 });
        const rect = await a.waitForShape({ kind: 'rect', x: 80, y: 220, w: 160, h: 100, color: '#e03131' });
        await eventually(() => b.shapes()).toEqual([rect]);
        await eventually(() => a.attr('undo', 'disabled')).toBeNull();
        await shot(a, 'undo-1-drawn-A');

        // Ctrl+Z deletes it everywhere.
        await a.page.keyboard.press('Control+z');
        await eventually(() => b.shapes()).toEqual([]);
        expect(await a.shapes()).toEqual([]);
        await shot(b, 'undo-2-undone-B');

        // The redo button re-creates it whole, as a write carrying `_exists: true` (SPEC D5).
        const sentBefore = a.sentFrames.length;
        await a.click('redo');
        await eventually(() => b.shapes()).toEqual([rect]);
        const key = `${rect.id}/Shape`;
        const recreated = sentPatches(a, sentBefore).find((patch) => patch[key]);
        expect(recreated?.[key]).toMatchObject({
          _exists: true,
          kind: 'rect',
          x: 80,
          y: 220,
          w: 160,
          h: 100,
        });
        expect(await a.attr('redo', 'disabled')).toBe('');

        // A moves it; B recolours it; A undoes the move: the position goes back, B's colour stays.
        await a.tool('select');
        const start = centerOf(rect);
        await a.drag(start, { x: start.x + 40, y: start.y + 60 });
        await eventually(async () => byId(await b.shapes(), rect.id)).toMatchObject({ x: 120, y: 280 });
        await b.tool('select');
        await b.page.mouse.click(start.x + 40, start.y + 60);
        await eventually(() => b.attr('delete', 'disabled')).toBeNull();
        await b.color('#2f9e44');
        await eventually(async () => byId(await a.shapes(), rect.id)?.color).toBe('#2f9e44');
        await a.page.keyboard.press('Control+z');
        const undone = { ...rect, color: '#2f9e44' };
        await eventually(() => b.shapes()).toEqual([undone]);
        await eventually(() => a.shapes()).toEqual([undone]);
        // B's own history holds only B's edit: its undo would not touch A's move.
        expect(await b.attr('undo', 'disabled')).toBeNull();

        // Ctrl+Shift+Z redoes the move.
        await a.page.keyboard.press('Control+Shift+Z');
        await eventually(async () => byId(await b.shapes(), rect.id)).toMatchObject({
          x: 120,
          y: 280,
          color: '#2f9e44',
        });
        await shot(a, 'undo-3-redone-move-A');
        await shot(b, 'undo-4-redone-move-B');
      },
      TEST_TIMEOUT_MS,
    );

    it(
      '[D5][whiteboard] the text tool creates and edits text; B sees both; undo restores the old text',
      async () => {
        const { a, b } = await boards.pair('text');

        await a.tool('text');
        await a.color('#1971c2');
        await a.page.mouse.click(60, 420);
        await eventually(async () => (await a.probe('text-editor'))?.visible).toBe(true);
        await a.page.keyboard.type('Hello');
        await shot(a, 'text-1-typing-A');
        const sentBefore = a.sentFrames.length;
        await a.page.keyboard.press('Enter');
        await eventually(async () => (await a.probe('text-editor'))?.visible).toBe(false);
        // 24 px text: one line is 30 px tall (line height 1.25).
        const text = await a.waitForShape({
          kind: 'text',
          x: 60,
          y: 420,
          h: 30,
          color: '#1971c2',
          text: 'Hello',
        });
        expect(text.w).toBeGreaterThan(30);
        // It was created by one write carrying `_exists: true` and all its fields (SPEC D5).
        await eventually(() =>
          sentPatches(a, sentBefore).find((patch) => patch[`${text.id}/Shape`]),
        ).toBeDefined();
        const created = sentPatches(a, sentBefore).find((patch) => patch[`${text.id}/Shape`]);
        expect(created?.[`${text.id}/Shape`]).toMatchObject({
          _exists: true,
          kind: 'text',
          text: 'Hello',
          x: 60,
        });
        await eventually(() => b.shapes()).toEqual([text]);
        await shot(b, 'text-2-received-B');

        // Double-click with the select tool edits it in place.
        await a.tool('select');
        const middle = centerOf(text);
        await a.page.mouse.dblclick(middle.x, middle.y);
        await eventually(() => a.page.getByTestId('text-editor').inputValue()).toBe('Hello');
        await a.page.keyboard.press('End');
        await a.page.keyboard.type(' world');
        await a.page.keyboard.press('Enter');
        const edited = await a.waitForShape({ id: text.id, text: 'Hello world', x: 60, y: 420, h: 30 });
        expect(edited.w).toBeGreaterThan(text.w);
        await eventually(() => b.shapes()).toEqual([edited]);
        await shot(b, 'text-3-edited-B');

        // Undo brings the old text back for B too; an edit emptied to nothing deletes the text.
        await a.click('undo');
        await eventually(() => b.shapes()).toEqual([text]);
        await a.tool('text');
        await a.page.mouse.click(middle.x, middle.y);
        await eventually(() => a.page.getByTestId('text-editor').inputValue()).toBe('Hello');
        await a.page.keyboard.press('Control+a');
        await a.page.keyboard.press('Backspace');
        await a.page.keyboard.press('Enter');
        await eventually(() => b.shapes()).toEqual([]);
        await shot(a, 'text-4-emptied-A');
      },
      TEST_TIMEOUT_MS,
    );

    it(
      '[A1][D7][whiteboard] the save indicator follows acks: Saving… then Saved; offline it counts unsaved edits',
      async () => {
        const { a, b } = await boards.pair('saved');
        await eventually(() => a.text('save-state')).toBe('Saved');
        await recordSaveLabels(a);

        await a.tool('rect');
        await a.drag({ x: 80, y: 220 }, { x: 200, y: 300 });
        const first = await a.waitForShape({ kind: 'rect', x: 80, y: 220 });
        await eventually(() => a.text('save-state')).toBe('Saved');
        const labels = await saveLabels(a);
        expect(labels, 'the indicator said Saving… before Saved').toContain('Saving…');
        expect(labels.at(-1)).toBe('Saved');
        await eventually(() => b.shapes()).toEqual([first]);

        // Offline: each shape drawn is one unsaved edit until the server has it.
        await a.click('offline-toggle');
        await a.waitStatus('offline');
        await eventually(() => a.text('save-state')).toBe('Offline — all edits saved');
        await a.drag({ x: 80, y: 340 }, { x: 160, y: 400 });
        await eventually(() => a.text('save-state')).toBe('Offline — 1 unsaved edit');
        await a.drag({ x: 200, y: 340 }, { x: 280, y: 400 });
        await eventually(() => a.text('save-state')).toBe('Offline — 2 unsaved edits');
        expect(await a.attr('save-state', 'data-state')).toBe('offline-unsaved');
        // The longest label still leaves the toolbar uncovered.
        const { toolbar, 'save-state': label } = await boxes(a, ['toolbar', 'save-state']);
        expect(overlap(toolbar as Box, label as Box)).toBe(false);
        expect((label as Box).x).toBeGreaterThanOrEqual(0);
        await shot(a, 'saved-1-offline-unsaved-A');
        expect(await b.shapes()).toHaveLength(1);

        // Online again: the server acks them, B gets them, the indicator says Saved.
        await a.click('offline-toggle');
        await a.waitSynced();
        await eventually(() => a.text('save-state')).toBe('Saved');
        await eventually(async () => (await b.shapes()).length).toBe(3);
        await shot(a, 'saved-2-back-online-A');
      },
      TEST_TIMEOUT_MS,
    );
  },
);
