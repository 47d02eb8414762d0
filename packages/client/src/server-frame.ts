import type { Patch, ServerMessage } from 'canvas-store-protocol';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPatchList(value: unknown): value is Patch[] {
  return (
    Array.isArray(value) && value.every((patch) => isObject(patch) && Object.values(patch).every(isObject))
  );
}

function isClock(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Parses one frame from the server, checking the fields the client relies
 * on. Returns `null` for anything else: unknown frame types are ignored, as
 * the protocol asks of clients.
 */
export function parseServerFrame(text: string): ServerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  switch (value.type) {
    case 'patch': {
      const { documentPatches, ephemeralPatches, clientId, timestamp } = value;
      if (typeof clientId !== 'string') return null;
      if (documentPatches !== undefined && (!isPatchList(documentPatches) || !isClock(timestamp)))
        return null;
      if (ephemeralPatches !== undefined && !isPatchList(ephemeralPatches)) return null;
      return value as unknown as ServerMessage;
    }
    case 'ack':
      return typeof value.messageId === 'string' && isClock(value.timestamp)
        ? (value as unknown as ServerMessage)
        : null;
    case 'synced':
      return isClock(value.timestamp) ? (value as unknown as ServerMessage) : null;
    case 'resync':
      return isClock(value.since) ? (value as unknown as ServerMessage) : null;
    case 'clientCount':
      return isClock(value.count) ? (value as unknown as ServerMessage) : null;
    case 'version-mismatch':
      return typeof value.serverProtocolVersion === 'number' ? (value as unknown as ServerMessage) : null;
    case 'error':
      return typeof value.code === 'string' && typeof value.message === 'string'
        ? (value as unknown as ServerMessage)
        : null;
    default:
      return null;
  }
}
