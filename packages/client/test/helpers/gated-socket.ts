import { WebSocket } from 'ws';
import type { ClientSocket, WebSocketConstructor } from '../../src/index.js';

/** A `ws` socket for the client whose outgoing frames can be held back and released later. */
interface SocketGate {
  WebSocket: WebSocketConstructor;
  /** Holds every frame sent from now on. */
  hold(): void;
  /** Sends the held frames in order and stops holding. */
  release(): void;
  /** Frames held right now. */
  readonly heldCount: number;
}

export function socketGate(): SocketGate {
  let holding = false;
  const held: Array<() => void> = [];
  class GatedSocket implements ClientSocket {
    private readonly inner: WebSocket;
    constructor(url: string) {
      this.inner = new WebSocket(url);
    }
    get readyState(): number {
      return this.inner.readyState;
    }
    send(data: string): void {
      if (holding) held.push(() => this.inner.send(data));
      else this.inner.send(data);
    }
    close(code?: number, reason?: string): void {
      this.inner.close(code, reason);
    }
    addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: never) => void): void {
      this.inner.addEventListener(type, listener as () => void);
    }
  }
  return {
    WebSocket: GatedSocket,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const send of held.splice(0)) send();
    },
    get heldCount() {
      return held.length;
    },
  };
}
