import type { Logger } from '../room/logger.js';
import type { ClusterConnection } from './cluster-connection.js';
import type { ClusterObserver } from './cluster-observer.js';
import type { InboundSessions } from './inbound-sessions.js';
import type { LinkMessage } from './link-messages.js';
import type { NodeLinks } from './node-links.js';

/** What {@link LinkDispatch} routes to: both sides of the sessions relayed over links. */
interface LinkDispatchParts {
  /** Sessions other nodes forward here (this node owns their rooms). */
  inbound: InboundSessions;
  /** Sessions this node forwards to owners, by session id. */
  outbound: ReadonlyMap<string, ClusterConnection>;
  links: NodeLinks;
  logger: Logger;
  observer: ClusterObserver | undefined;
}

/**
 * Where each message arriving over a cluster link goes (SPEC K3-K5): messages
 * for a room this node owns (`open`, `frame`, `gone`) to the inbound sessions,
 * answers and frames of an owner (`opened`, `refused`, `out`, `close`) to the
 * client connections this node forwards. Also the one place that closes every
 * session relayed with a node whose link may have lost messages.
 */
export class LinkDispatch {
  constructor(private readonly parts: LinkDispatchParts) {}

  /** Routes one message `from` a node. */
  message(from: string, message: LinkMessage): void {
    const { inbound, outbound } = this.parts;
    switch (message.t) {
      case 'open':
        void inbound.open(from, message);
        return;
      case 'frame':
        inbound.frame(from, message.sid, message.data);
        return;
      case 'gone':
        inbound.gone(message.sid);
        return;
      case 'opened':
        outbound.get(message.sid)?.answered({ opened: true });
        return;
      case 'refused':
        outbound.get(message.sid)?.answered({ opened: false, holder: message.holder });
        return;
      case 'out':
        this.parts.observer?.forwardedFrame('from-owner', message.sids.length);
        for (const sid of message.sids) {
          const connection = outbound.get(sid);
          // A session this node no longer relays: tell the owner, whose 'gone' may have been lost (SPEC K5).
          if (connection) connection.deliver(message.data);
          else this.parts.links.send(from, { t: 'gone', sid });
        }
        return;
      case 'close':
        outbound.get(message.sid)?.closedByOwner(message.code, message.reason);
        return;
    }
  }

  /** Messages to or from `node` may be lost: close every session relayed over that link (SPEC K5). */
  broken(node: string, why: string): void {
    this.parts.observer?.linkBroken(why);
    let closed = this.parts.inbound.dropNode(node, `cluster link to ${node} lost messages`);
    for (const connection of Array.from(this.parts.outbound.values())) {
      if (connection.ownerNode !== node) continue;
      closed++;
      connection.restart(`cluster link to ${node} lost messages`);
    }
    if (closed > 0)
      this.parts.logger.warn({ node, why, sessions: closed }, 'cluster link broken; sessions closed');
  }

  /** Nodes this node relays sessions with (pending opens included): their links get keep-alives (SPEC K5). */
  peers(): Set<string> {
    const peers = this.parts.inbound.nodes();
    for (const connection of this.parts.outbound.values()) {
      if (connection.ownerNode !== undefined) peers.add(connection.ownerNode);
    }
    return peers;
  }

  /**
   * Nodes outside `live` that sessions are still relayed with: forwarded
   * sessions' owners first, then nodes forwarding sessions here (SPEC K4).
   */
  deadPeers(live: ReadonlySet<string>): Set<string> {
    const dead = new Set<string>();
    for (const connection of this.parts.outbound.values()) {
      const owner = connection.ownerNode;
      if (owner !== undefined && !live.has(owner)) dead.add(owner);
    }
    for (const node of this.parts.inbound.nodes()) if (!live.has(node)) dead.add(node);
    return dead;
  }
}
