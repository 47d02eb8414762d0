import type { CanvasStoreClient } from 'canvas-store-client';
import { h } from './dom.js';

/** What the indicator shows. */
type SaveState = 'saved' | 'saving' | 'offline-saved' | 'offline-unsaved';

/** The state and label for a connection status and a number of unacked keys. */
export function saveState(online: boolean, pending: number): { state: SaveState; label: string } {
  if (online)
    return pending === 0 ? { state: 'saved', label: 'Saved' } : { state: 'saving', label: 'Saving…' };
  if (pending === 0) return { state: 'offline-saved', label: 'Offline — all edits saved' };
  return { state: 'offline-unsaved', label: `Offline — ${pending} unsaved edit${pending === 1 ? '' : 's'}` };
}

/**
 * Whether this user's edits are safe on the server (`save-state`, with
 * `data-state`): "Saving…" while writes wait for their ack, "Saved" once the
 * server acked them all, "Offline — N unsaved edits" (N shapes) while not
 * connected. Driven by the client's `saved` event and status.
 */
export class SaveIndicator {
  readonly element = h('div', { class: 'save-state', 'data-testid': 'save-state', role: 'status' });

  constructor(private readonly client: CanvasStoreClient) {}

  render(): void {
    const online = this.client.status === 'online' && this.client.synced;
    const pending = this.client.pendingCount;
    const { state, label } = saveState(online, pending);
    this.element.dataset.state = state;
    this.element.dataset.pending = String(pending);
    if (this.element.textContent !== label) this.element.textContent = label;
  }
}
