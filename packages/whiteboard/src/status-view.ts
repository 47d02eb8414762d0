import type { CanvasStoreClient } from 'canvas-store-client';
import { h } from './dom.js';

const LABELS: Record<string, string> = {
  connecting: 'Connecting…',
  online: 'Online',
  offline: 'Offline',
  closed: 'Closed',
};

/**
 * The connection indicator (`status`, with `data-status` and `data-synced`),
 * the client count (`client-count`, hidden while not online), the last server error and, while
 * offline, a banner explaining that edits are kept and will sync later.
 */
export class StatusView {
  /** Goes into the sidebar. */
  readonly element: HTMLElement;
  /** Goes over the board; visible only while offline. */
  readonly banner = h(
    'div',
    { class: 'offline-banner', 'data-testid': 'offline-banner', hidden: true },
    'You are offline. Keep drawing: your edits are kept in this browser and sent when you reconnect.',
  );
  private readonly status = h('div', { class: 'status', 'data-testid': 'status', role: 'status' });
  private readonly count = h('span', { class: 'client-count', 'data-testid': 'client-count' });
  private readonly countLine = h('div', { class: 'muted' }, this.count, ' connected in this room');
  private readonly error = h('div', { class: 'status-error', 'data-testid': 'status-error', hidden: true });

  constructor(private readonly client: CanvasStoreClient) {
    this.element = h('section', { class: 'panel status-panel' }, this.status, this.countLine, this.error);
  }

  /** Redraws from the client's status, synced flag and client count. */
  render(): void {
    const { status } = this.client;
    const synced = status === 'online' && this.client.synced;
    this.status.dataset.status = status;
    this.status.dataset.synced = String(synced);
    const detail = status === 'online' ? (synced ? ' · synced' : ' · syncing…') : '';
    this.status.replaceChildren(h('span', { class: 'status-dot' }), `${LABELS[status] ?? status}${detail}`);
    // The count comes from the server (0 while not connected): shown only when online.
    this.count.textContent = String(this.client.clientCount);
    this.countLine.hidden = status !== 'online';
    this.banner.hidden = status !== 'offline';
  }

  /** Shows a problem reported by the server (or clears it with null). */
  showError(message: string | null): void {
    this.error.hidden = message === null;
    this.error.textContent = message ?? '';
  }
}
