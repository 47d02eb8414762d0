import type { WebSocketLike } from '../room/web-socket-like.js';
import type { NodeLinks } from './node-links.js';

/**
 * The owner's end of a forwarded session: a {@link WebSocketLike} whose frames
 * travel over the link to the node holding the client's socket. The room it
 * joins does not know the client is elsewhere (SPEC K1, K3).
 */
export class RemoteSocket implements WebSocketLike {
  private closed = false;

  constructor(
    private readonly links: NodeLinks,
    /** The node holding the client's socket. */
    readonly node: string,
    /** The session id the forwarding node gave this session. */
    readonly sid: string,
    private readonly onClosed: () => void,
  ) {}

  /** True once closed from either end. */
  get isClosed(): boolean {
    return this.closed;
  }

  send(data: string): void {
    if (!this.closed) this.links.sendOut(this.node, this.sid, data);
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.closed = true;
    this.links.send(this.node, { t: 'close', sid: this.sid, code, reason });
    this.onClosed();
  }

  /** The client went away on its node: nothing more is sent. */
  markGone(): void {
    this.closed = true;
  }
}
