import { h, svg } from '../dom.js';
import { type AdminApi, AdminError, type HistoryEntry, type HistoryPage } from './admin-api.js';
import { renderPreview, shapesOf } from './board-preview.js';

/** History entries the timeline loads (the newest). */
const HISTORY_LIMIT = 1_000;
/** Wait this long after the last slider move before loading that state, ms. */
const SCRUB_DELAY_MS = 120;

function describeEntry(entry: HistoryEntry | undefined, clock: number, page: HistoryPage): string {
  const head = `clock ${clock} of ${page.clock}`;
  if (!entry) return clock === page.clock ? `${head} · now` : `${head} · oldest state kept`;
  const author = entry.clientId === '' ? 'the server' : entry.clientId;
  const keys =
    entry.keys.slice(0, 3).join(', ') + (entry.keys.length > 3 ? ` +${entry.keys.length - 3}` : '');
  return `${head} · ${new Date(entry.time).toLocaleString()} · by ${author} · ${keys}`;
}

/**
 * The room's timeline (SPEC H1, H2, H4): a slider over the clocks whose
 * state the server keeps, the board as it was at the chosen clock (drawn
 * with the whiteboard's shapes), restore to that clock in one click, and a
 * download of the room's export file.
 */
export class Timeline {
  readonly element: HTMLElement;
  private readonly slider = h('input', {
    type: 'range',
    min: 0,
    max: 0,
    step: 1,
    'data-testid': 'timeline',
    'aria-label': 'Clock',
  });
  private readonly label = h('div', { class: 'timeline-label', 'data-testid': 'timeline-label' });
  private readonly preview = svg('svg', {
    class: 'preview',
    'data-testid': 'timeline-preview',
    preserveAspectRatio: 'xMidYMid meet',
  });
  private readonly restoreButton = h(
    'button',
    { type: 'button', 'data-testid': 'timeline-restore', disabled: true },
    'Restore to this point',
  );
  private readonly exportButton = h(
    'button',
    { type: 'button', 'data-testid': 'download-export' },
    'Download export',
  );
  private readonly status = h('p', { class: 'muted', 'data-testid': 'timeline-status', role: 'status' });
  private api: AdminApi | null = null;
  private roomId: string | null = null;
  private page: HistoryPage | null = null;
  private shownClock = -1;
  private scrubTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly onChanged: () => void) {
    this.element = h(
      'section',
      { class: 'timeline' },
      h('h3', {}, 'Timeline'),
      this.slider,
      this.label,
      this.preview,
      h('div', { class: 'timeline-actions' }, this.restoreButton, this.exportButton),
      this.status,
    );
    this.slider.addEventListener('input', () => this.scrub());
    this.restoreButton.addEventListener('click', () => void this.restore());
    this.exportButton.addEventListener('click', () => void this.download());
  }

  /** Shows `roomId`'s timeline; called on every refresh. Follows the live clock while the slider is at its end. */
  async update(api: AdminApi, roomId: string, clock: number): Promise<void> {
    const sameRoom = this.api === api && this.roomId === roomId;
    if (sameRoom && this.page?.clock === clock) return;
    const atEnd = !sameRoom || Number(this.slider.value) === Number(this.slider.max);
    this.api = api;
    this.roomId = roomId;
    let page: HistoryPage;
    try {
      page = await api.history(roomId, HISTORY_LIMIT);
    } catch (failure) {
      if (failure instanceof AdminError && failure.status === 409) {
        this.page = null;
        this.slider.disabled = true;
        this.status.textContent = 'This server’s storage keeps no history.';
        return;
      }
      throw failure;
    }
    if (this.roomId !== roomId) return;
    this.page = page;
    const oldestListed = page.entries[page.entries.length - 1];
    const min = Math.max(page.horizon, oldestListed ? oldestListed.clock - 1 : page.clock);
    this.slider.min = String(min);
    this.slider.max = String(page.clock);
    this.slider.disabled = false;
    if (atEnd) this.slider.value = String(page.clock);
    if (atEnd || Number(this.slider.value) !== this.shownClock) await this.load(Number(this.slider.value));
  }

  private scrub(): void {
    if (this.scrubTimer !== undefined) clearTimeout(this.scrubTimer);
    this.scrubTimer = setTimeout(() => void this.load(Number(this.slider.value)), SCRUB_DELAY_MS);
  }

  /** Loads and draws the state at `clock`. */
  private async load(clock: number): Promise<void> {
    const { api, roomId, page } = this;
    if (!api || roomId === null || !page) return;
    try {
      const components = await api.documentAt(roomId, clock);
      if (this.roomId !== roomId || Number(this.slider.value) !== clock) return;
      const shapes = shapesOf(components);
      renderPreview(this.preview, shapes);
      this.shownClock = clock;
      const entry = page.entries.find((e) => e.clock === clock);
      this.label.textContent = `${describeEntry(entry, clock, page)} · ${shapes.length} shapes`;
      this.label.dataset.clock = String(clock);
      this.restoreButton.disabled = clock === page.clock;
    } catch (failure) {
      this.status.textContent = failure instanceof Error ? failure.message : String(failure);
    }
  }

  private async restore(): Promise<void> {
    const { api, roomId } = this;
    if (!api || roomId === null) return;
    const clock = Number(this.slider.value);
    this.restoreButton.disabled = true;
    try {
      const now = await api.restore(roomId, clock);
      this.status.textContent = `Restored to clock ${clock}: the board is now at clock ${now}.`;
      // Follow the restored (live) state.
      this.slider.value = this.slider.max;
      this.onChanged();
    } catch (failure) {
      this.status.textContent = failure instanceof Error ? failure.message : String(failure);
      this.restoreButton.disabled = false;
    }
  }

  private async download(): Promise<void> {
    const { api, roomId } = this;
    if (!api || roomId === null) return;
    try {
      const text = await api.exportRoom(roomId);
      const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
      const link = h('a', { href: url, download: `${roomId}.canvas-export.json` });
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      this.status.textContent = `Export of ${roomId} downloaded.`;
    } catch (failure) {
      this.status.textContent = failure instanceof Error ? failure.message : String(failure);
    }
  }
}
