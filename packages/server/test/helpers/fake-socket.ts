import type { ServerMessage, WebSocketLike } from '../../src/index.js';

/** An in-memory socket that records every frame the server sends and how it was closed. */
export class FakeSocket implements WebSocketLike {
  readonly sent: string[] = [];
  closed: { code: number | undefined; reason: string | undefined } | null = null;

  send(data: string): void {
    if (this.closed) throw new Error('send on a closed socket');
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closed ??= { code, reason };
  }

  /** Every frame received so far, parsed. */
  get messages(): ServerMessage[] {
    return this.sent.map((text) => JSON.parse(text) as ServerMessage);
  }

  /** Frames of one type, parsed. */
  ofType<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.messages.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  }

  /** Forgets what was received so far. */
  clear(): void {
    this.sent.length = 0;
  }
}
