import { CanvasStoreClient } from 'canvas-store-client';
import { WhiteboardApp } from './app.js';
import { readSessionConfig } from './session-config.js';

declare global {
  interface Window {
    /** Handles for debugging and browser tests. */
    __whiteboard?: { client: CanvasStoreClient; app: WhiteboardApp };
  }
}

const config = readSessionConfig();
const client = new CanvasStoreClient({
  url: config.serverUrl,
  roomId: config.roomId,
  clientId: config.clientId,
  token: config.token,
  persistence: { indexedDbName: `whiteboard-${config.roomId}` },
  startOffline: config.startOffline,
});
const app = new WhiteboardApp(client, config);
document.querySelector('#app')?.replaceWith(app.element);
document.title = `${config.roomId} · Whiteboard`;
app.start();
window.__whiteboard = { client, app };
