import {
  type AuthorizeInfo,
  type AuthorizeResult,
  acceptConnection,
  type PendingConnection,
} from '../connection/accept-connection.js';
import type { RoomManager } from '../manager/room-manager.js';
import { CloseCode } from '../protocol/close-codes.js';
import type { LinkMessage } from './link-messages.js';
import type { NodeLinks } from './node-links.js';
import { RemoteSocket } from './remote-socket.js';

/** Whether this node serves a room now; `done` must be called once the open attempt settled. */
export type Ownership = { owned: true; done: () => void } | { owned: false; holder: string | undefined };

/** What {@link InboundSessions} needs. */
export interface InboundOptions {
  manager: RoomManager;
  links: NodeLinks;
  /** Makes sure this node holds the room's lease, or says who does. */
  ensureOwned(roomId: string): Promise<Ownership>;
  /** Authorizes token refreshes of forwarded sessions (SPEC C5). */
  authorizeRefresh(info: AuthorizeInfo): Promise<AuthorizeResult> | AuthorizeResult;
  maxPendingBytes: number;
}

interface Inbound {
  from: string;
  roomId: string;
  socket: RemoteSocket;
  handle: PendingConnection | undefined;
  held: string[];
  gone: boolean;
}

type OpenMessage = Extract<LinkMessage, { t: 'open' }>;

/**
 * The owner's side of forwarded sessions (SPEC K1): each joins the room
 * through the ordinary `acceptConnection`, with a {@link RemoteSocket}.
 */
export class InboundSessions {
  private readonly sessions = new Map<string, Inbound>();

  constructor(private readonly options: InboundOptions) {}

  /** Forwarded sessions attached here. */
  get size(): number {
    return this.sessions.size;
  }

  /** The nodes whose sessions are attached here. */
  nodes(): Set<string> {
    return new Set(Array.from(this.sessions.values(), (entry) => entry.from));
  }

  /** A forwarding node asks to attach a session. */
  async open(from: string, message: OpenMessage): Promise<void> {
    const { sid, roomId } = message;
    if (this.sessions.has(sid)) return;
    const { links } = this.options;
    const entry: Inbound = {
      from,
      roomId,
      socket: new RemoteSocket(links, from, sid, () => this.sessions.delete(sid)),
      handle: undefined,
      held: [],
      gone: false,
    };
    this.sessions.set(sid, entry);
    let ownership: Ownership;
    try {
      ownership = await this.options.ensureOwned(roomId);
    } catch {
      ownership = { owned: false, holder: undefined };
    }
    if (!ownership.owned) {
      this.sessions.delete(sid);
      if (!entry.gone) links.send(from, { t: 'refused', sid, holder: ownership.holder });
      return;
    }
    if (entry.gone) {
      ownership.done();
      return;
    }
    let connecting = true;
    const handle = acceptConnection({
      socket: entry.socket,
      url: message.url,
      manager: this.options.manager,
      // The forwarding node authorized the connect; later calls are token refreshes.
      authorize: (info) => {
        if (!connecting) return this.options.authorizeRefresh(info);
        connecting = false;
        return { permissions: message.permissions, metadata: message.metadata };
      },
      maxPendingBytes: this.options.maxPendingBytes,
    });
    entry.handle = handle;
    for (const data of entry.held) handle.onMessage(data);
    entry.held = [];
    if (entry.gone) handle.onClose();
    handle.ready.then(
      () => {
        if (!entry.socket.isClosed) links.send(from, { t: 'opened', sid });
      },
      () => {
        // acceptConnection closed the remote socket with its code; the forwarder relays it.
      },
    );
    handle.ready.finally(ownership.done).catch(() => {});
  }

  /** A frame from a forwarded client. */
  frame(sid: string, data: string): void {
    const entry = this.sessions.get(sid);
    if (!entry) return;
    if (entry.handle) entry.handle.onMessage(data);
    else entry.held.push(data);
  }

  /** A forwarded client's socket closed on its node. */
  gone(sid: string): void {
    const entry = this.sessions.get(sid);
    if (!entry) return;
    entry.gone = true;
    entry.socket.markGone();
    this.sessions.delete(sid);
    entry.handle?.onClose();
  }

  /**
   * Every session relayed through `node` is closed with 1012: the link lost
   * messages or the node died (SPEC K4, K5). When the node is alive it closes
   * the clients, which reconnect.
   */
  dropNode(node: string, reason: string): number {
    let dropped = 0;
    for (const [sid, entry] of this.sessions) {
      if (entry.from !== node) continue;
      dropped++;
      this.sessions.delete(sid);
      entry.socket.close(CloseCode.ServiceRestart, reason);
      entry.handle?.onClose();
    }
    return dropped;
  }
}
