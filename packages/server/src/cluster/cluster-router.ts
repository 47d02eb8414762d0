import { CloseCode } from 'canvas-store-protocol';
import type { Redis } from 'ioredis';
import type {
  AcceptConnectionOptions,
  AuthorizeInfo,
  AuthorizeResult,
} from '../connection/accept-connection.js';
import type { RoomManager } from '../manager/room-manager.js';
import type { Logger } from '../room/logger.js';
import { FencedError } from '../storage/fenced-error.js';
import type { RoomFence } from '../storage/room-fence.js';
import { ClusterConnection, type ConnectionRouter, type Route } from './cluster-connection.js';
import { ClusterKeys } from './cluster-keys.js';
import type { ClusterObserver } from './cluster-observer.js';
import { ClusterRedis, createRedis, type LeaseEntry } from './cluster-redis.js';
import { InboundSessions, type Ownership } from './inbound-sessions.js';
import { LINK_DROP_ENV, LinkDropHook } from './link-drop-hook.js';
import type { LinkMessage } from './link-messages.js';
import { NodeLinks } from './node-links.js';
import { preferredOwner } from './rendezvous.js';
import { RoomInstances } from './room-instances.js';
import { RoomLeases } from './room-leases.js';

/** Options of {@link ClusterRouter}. */
export interface ClusterRouterOptions {
  redisUrl: string;
  /** The shared database's URL: the cluster's Redis namespace is derived from it. */
  postgresUrl: string;
  nodeId: string;
  /** Lease of memberships and rooms, in ms; renewed every third of it. */
  leaseMs: number;
  manager: RoomManager;
  logger: Logger;
  /** Authorizes token refreshes of sessions forwarded to this node (SPEC C5). */
  authorizeRefresh(info: AuthorizeInfo): Promise<AuthorizeResult> | AuthorizeResult;
  observer?: ClusterObserver;
  /** Bytes a forwarded session may send before it is attached. Default 8 MiB. */
  maxPendingBytes?: number;
}

/** What `/readyz` and the admin API show of this node. */
export interface ClusterStatus {
  nodeId: string;
  redisConnected: boolean;
  membershipFresh: boolean;
  liveNodes: string[];
  ownedRooms: string[];
  forwardedSessions: number;
  remoteSessions: number;
}

/**
 * The cluster room router (SPEC K1-K7): keeps this node's membership and room
 * leases alive in Redis, serves each client socket from the local room when
 * this node owns it or forwards it to the owner over a link, attaches sessions
 * other nodes forward here, hands rooms over when ownership moves, and gives
 * rooms up (without acking anything more) when their lease is lost.
 */
export class ClusterRouter implements ConnectionRouter {
  readonly nodeId: string;
  readonly openTimeoutMs: number;
  readonly openAnswerTimeoutMs: number;
  readonly maxOpenAnswerMs: number;
  private readonly keys: ClusterKeys;
  private readonly commandRedis: Redis;
  private readonly subscriber: Redis;
  private readonly redis: ClusterRedis;
  private readonly links: NodeLinks;
  private readonly leases: RoomLeases;
  private readonly inbound: InboundSessions;
  private readonly outbound = new Map<string, ClusterConnection>();
  /** Opens in flight per room: their lease must not be released as idle. */
  private readonly opening = new Map<string, number>();
  private readonly handingOver = new Set<string>();
  private readonly instances: RoomInstances;
  private live = new Set<string>();
  private lastHeartbeat = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private stopping = false;

  constructor(private readonly options: ClusterRouterOptions) {
    this.nodeId = options.nodeId;
    this.openTimeoutMs = options.leaseMs * 2 + 5_000;
    // Keep-alives (every third of a lease) reveal a lost open or answer within about two
    // thirds of a lease; this is the backstop, below the default handshake timeout (SPEC K5).
    this.openAnswerTimeoutMs = Math.round(options.leaseMs * 1.5);
    this.maxOpenAnswerMs = options.leaseMs * 3;
    this.keys = new ClusterKeys(options.postgresUrl);
    this.commandRedis = createRedis(options.redisUrl, `canvas-store-${options.nodeId}`, options.leaseMs);
    this.subscriber = createRedis(options.redisUrl, `canvas-store-${options.nodeId}-links`, options.leaseMs);
    this.redis = new ClusterRedis(this.commandRedis, this.keys, options.nodeId, options.leaseMs);
    this.leases = new RoomLeases(this.redis, options.leaseMs);
    this.instances = new RoomInstances(
      options.manager,
      this.leases,
      options.logger,
      options.observer,
      this.handingOver,
    );
    const observer = options.observer;
    const dropHook = LinkDropHook.fromEnv(process.env);
    if (dropHook) {
      options.logger.warn(
        { [LINK_DROP_ENV]: dropHook.spec },
        `TEST HOOK ${LINK_DROP_ENV} is set: this node loses cluster link messages on purpose; never set it in production`,
      );
    }
    this.links = new NodeLinks(
      this.commandRedis,
      this.subscriber,
      this.keys,
      options.nodeId,
      {
        message: (from, message) => this.onLinkMessage(from, message),
        broken: (node, why) => this.onLinkBroken(node, why),
        envelope: observer ? (direction, count) => observer.linkEnvelope(direction, count) : undefined,
        gap: (_node, lost) => observer?.linkGap(lost),
        peers: () => this.linkPeers(),
        dropped: (node, message) =>
          options.logger.warn({ node, message: message.t }, `TEST HOOK ${LINK_DROP_ENV}: link message lost`),
      },
      { keepAliveMs: Math.max(1, Math.floor(options.leaseMs / 3)), dropHook },
    );
    this.inbound = new InboundSessions({
      manager: options.manager,
      links: this.links,
      ensureOwned: (roomId) => this.ensureOwned(roomId),
      authorizeRefresh: options.authorizeRefresh,
      maxPendingBytes: options.maxPendingBytes ?? 8 * 1024 * 1024,
    });
  }

  /** Connects to Redis, joins the membership and starts renewing. Rejects when Redis cannot be reached. */
  async start(): Promise<void> {
    await Promise.all([this.commandRedis.connect(), this.subscriber.connect()]);
    await this.links.start();
    await this.tick();
    if (!this.membershipFresh) throw new Error('could not join the cluster membership in Redis');
    this.timer = setInterval(
      () => {
        // Checked even while a renewal is still waiting for Redis.
        this.giveUpExpired();
        void this.tick();
      },
      Math.max(1, Math.floor(this.options.leaseMs / 3)),
    );
    this.timer.unref();
  }

  /** Accepts a client socket of this node (in place of `acceptConnection`). */
  accept<TRequest, TMeta>(options: AcceptConnectionOptions<TRequest, TMeta>): ClusterConnection {
    // The connection passes the request and metadata through untouched; only their types are erased.
    return new ClusterConnection(this, options as unknown as AcceptConnectionOptions);
  }

  /**
   * The fence of a room instance this node opens now, for its storage (SPEC K2).
   * The instance is bound to the lease term it is opened under: it may write
   * only while that term lasts, and is dropped when the term ends.
   */
  fenceFor(roomId: string): RoomFence {
    const term = this.leases.termOf(roomId);
    const epoch = this.leases.epochOf(roomId) ?? 0;
    this.instances.bind(roomId, term);
    return {
      leaseEpoch: epoch,
      assertHeld: () => {
        if (term === undefined || !this.leases.isValid(roomId, term)) {
          throw new FencedError(roomId, `node ${this.nodeId} cannot count on its lease of the room any more`);
        }
      },
      claimed: (claimed) =>
        this.options.logger.debug(
          { roomId, term, leaseEpoch: epoch, epoch: claimed },
          'room claimed for loading',
        ),
      fenced: () => {
        // Only the current term's instance may give the lease up; an older one was dropped already.
        if (term !== undefined && this.leases.termOf(roomId) === term) {
          this.loseRoom(roomId, 'a newer owner fenced the room');
        } else if (this.instances.termOf(roomId) === term) {
          this.instances.drop(roomId, 'a newer owner fenced the room');
        }
      },
    };
  }

  /** True while Redis answers and this node's membership is fresh (for `/readyz`). */
  get ready(): boolean {
    return !this.stopping && this.redis.connected && this.membershipFresh;
  }

  /** This node's view of the cluster. */
  status(): ClusterStatus {
    return {
      nodeId: this.nodeId,
      redisConnected: this.redis.connected,
      membershipFresh: this.membershipFresh,
      liveNodes: Array.from(this.live).sort(),
      ownedRooms: this.leases.roomIds.sort(),
      forwardedSessions: this.outbound.size,
      remoteSessions: this.inbound.size,
    };
  }

  /** Every room lease in the cluster: which node owns which room. */
  listLeases(limit = 10_000): Promise<LeaseEntry[]> {
    return this.redis.listLeases(limit);
  }

  /** Rooms this node owns. */
  get ownedRoomCount(): number {
    return this.leases.roomIds.length;
  }

  /**
   * Graceful stop (SPEC K7): leaves the membership, hands every owned room over
   * (stored, lease released, sessions closed with 1012), closes forwarded clients
   * with 1012 and disconnects.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.redis.leave().catch(() => {});
    for (const connection of Array.from(this.outbound.values())) connection.restart('node stopping');
    await Promise.allSettled(this.leases.roomIds.map((roomId) => this.handOver(roomId, 'node stopping')));
    await this.links.flush().catch(() => {});
    this.links.close();
    await Promise.allSettled([this.commandRedis.quit(), this.subscriber.quit()]);
  }

  // ConnectionRouter

  /** Where `roomId` is served: here (lease held) or on another live node. */
  async route(roomId: string): Promise<Route> {
    const deadline = performance.now() + this.openTimeoutMs;
    for (;;) {
      if (this.stopping) throw new Error('node stopping');
      if (this.leases.isValid(roomId) && !this.handingOver.has(roomId)) {
        this.instances.dropStale(roomId);
        return this.localRoute(roomId);
      }
      if (!this.handingOver.has(roomId)) {
        const holder = await this.redis.holder(roomId);
        if (holder && holder.node !== this.nodeId) {
          if (this.live.has(holder.node)) return { local: false, node: holder.node };
          // A dead node's lease: wait until it runs out.
        } else {
          const preferred = preferredOwner(roomId, this.live) ?? this.nodeId;
          if (preferred !== this.nodeId && !holder) return { local: false, node: preferred };
          const owned = await this.ensureOwned(roomId);
          if (owned.owned) return { local: true, done: owned.done };
        }
      }
      if (performance.now() > deadline) throw new Error(`no node could take room ${roomId}`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, this.options.leaseMs / 4)));
    }
  }

  send(node: string, message: LinkMessage): void {
    if (message.t === 'frame') this.options.observer?.forwardedFrame('to-owner', 1);
    this.links.send(node, message);
  }

  registerOutbound(sid: string, connection: ClusterConnection): void {
    this.outbound.set(sid, connection);
  }

  unregisterOutbound(sid: string): void {
    this.outbound.delete(sid);
  }

  openTimedOut(): void {
    this.options.observer?.openTimedOut();
  }

  heardFrom(node: string, withinMs: number): boolean {
    return this.links.heardFrom(node, withinMs);
  }

  /** Nodes this node relays sessions with (pending opens included): their links get keep-alives (SPEC K5). */
  private linkPeers(): Set<string> {
    const peers = this.inbound.nodes();
    for (const connection of this.outbound.values()) {
      if (connection.ownerNode !== undefined) peers.add(connection.ownerNode);
    }
    return peers;
  }

  // Internals

  private get membershipFresh(): boolean {
    return performance.now() - this.lastHeartbeat < this.options.leaseMs * 0.75;
  }

  private localRoute(roomId: string): Route {
    return { local: true, done: this.markOpening(roomId) };
  }

  private markOpening(roomId: string): () => void {
    this.opening.set(roomId, (this.opening.get(roomId) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.opening.get(roomId) ?? 1) - 1;
      if (left > 0) this.opening.set(roomId, left);
      else this.opening.delete(roomId);
    };
  }

  /** Takes the room's lease unless another node holds it. */
  private async ensureOwned(roomId: string): Promise<Ownership> {
    if (this.stopping || this.handingOver.has(roomId)) return { owned: false, holder: undefined };
    const done = this.markOpening(roomId);
    try {
      const attempt = await this.leases.acquire(roomId);
      // A term that ended unnoticed: what this node has of the room may miss another owner's writes.
      if (attempt.replaced) this.instances.drop(roomId, 'room lease taken again under a new term');
      if (attempt.held && !this.stopping) {
        this.instances.dropStale(roomId);
        return { owned: true, done };
      }
      done();
      return { owned: false, holder: attempt.held ? undefined : attempt.holder };
    } catch (error) {
      done();
      throw error;
    }
  }

  private onLinkMessage(from: string, message: LinkMessage): void {
    switch (message.t) {
      case 'open':
        void this.inbound.open(from, message);
        return;
      case 'frame':
        this.inbound.frame(from, message.sid, message.data);
        return;
      case 'gone':
        this.inbound.gone(message.sid);
        return;
      case 'opened':
        this.outbound.get(message.sid)?.answered({ opened: true });
        return;
      case 'refused':
        this.outbound.get(message.sid)?.answered({ opened: false, holder: message.holder });
        return;
      case 'out':
        this.options.observer?.forwardedFrame('from-owner', message.sids.length);
        for (const sid of message.sids) {
          const connection = this.outbound.get(sid);
          // A session this node no longer relays: tell the owner, whose 'gone' may have been lost (SPEC K5).
          if (connection) connection.deliver(message.data);
          else this.links.send(from, { t: 'gone', sid });
        }
        return;
      case 'close':
        this.outbound.get(message.sid)?.closedByOwner(message.code, message.reason);
        return;
    }
  }

  /** Messages to or from `node` may be lost: close every session relayed over that link (SPEC K5). */
  private onLinkBroken(node: string, why: string): void {
    this.options.observer?.linkBroken(why);
    let closed = this.inbound.dropNode(node, `cluster link to ${node} lost messages`);
    for (const connection of Array.from(this.outbound.values())) {
      if (connection.ownerNode !== node) continue;
      closed++;
      connection.restart(`cluster link to ${node} lost messages`);
    }
    if (closed > 0)
      this.options.logger.warn({ node, why, sessions: closed }, 'cluster link broken; sessions closed');
  }

  /** Renews membership and leases; gives up what can no longer be held; moves rooms to their preferred node. */
  private async tick(): Promise<void> {
    if (this.ticking || this.stopping) return;
    this.ticking = true;
    try {
      const sentAt = performance.now();
      let fresh = false;
      try {
        this.live = new Set(await this.redis.heartbeat());
        this.lastHeartbeat = sentAt;
        fresh = true;
      } catch (error) {
        this.options.observer?.renewFailed();
        this.options.logger.warn({ err: error }, 'cluster membership renewal failed');
      }
      try {
        for (const roomId of await this.leases.renewAll())
          this.loseRoom(roomId, 'lease taken by another node');
      } catch (error) {
        this.options.observer?.renewFailed();
        this.options.logger.warn({ err: error }, 'room lease renewal failed');
      }
      this.giveUpExpired();
      this.instances.sweep();
      if (fresh) this.afterFreshMembership();
    } finally {
      this.ticking = false;
    }
  }

  private giveUpExpired(): void {
    for (const roomId of this.leases.expired()) this.loseRoom(roomId, 'lease could not be renewed in time');
  }

  private afterFreshMembership(): void {
    // Sessions relayed through nodes whose membership expired (SIGKILL, partition): SPEC K4.
    const dead = new Set<string>();
    for (const connection of this.outbound.values()) {
      const owner = connection.ownerNode;
      if (owner !== undefined && !this.live.has(owner)) dead.add(owner);
    }
    for (const node of this.inbound.nodes()) if (!this.live.has(node)) dead.add(node);
    for (const node of dead) this.onLinkBroken(node, 'node left the membership');
    const unpersisted = new Set(this.options.manager.getUnpersistedRoomIds());
    for (const roomId of this.leases.roomIds) {
      if (this.handingOver.has(roomId) || this.opening.has(roomId)) continue;
      const open = this.options.manager.getExistingRoom(roomId) !== undefined;
      if (!open) {
        // Closed for idleness (and stored): let another node take it at once.
        if (!unpersisted.has(roomId)) this.leases.release(roomId).catch(() => {});
        continue;
      }
      const preferred = preferredOwner(roomId, this.live);
      if (preferred !== undefined && preferred !== this.nodeId) {
        void this.handOver(roomId, `room moving to node ${preferred}`);
      }
    }
  }

  /** Stores and closes the room, closes its sessions with 1012, then releases the lease (SPEC K7). */
  private async handOver(roomId: string, reason: string): Promise<void> {
    if (this.handingOver.has(roomId)) return;
    this.handingOver.add(roomId);
    try {
      const room = this.options.manager.getExistingRoom(roomId);
      if (room) {
        for (const session of room.getSessions()) {
          room.closeSession(session.sessionId, CloseCode.ServiceRestart, reason);
        }
        await this.options.manager.closeRoom(roomId);
      }
      await this.leases.release(roomId);
      this.options.logger.info({ roomId, reason }, 'room handed over');
    } catch (error) {
      // Not stored yet: keep the lease; the tick releases it once the room's data is stored.
      this.options.logger.warn({ roomId, err: error }, 'room hand-over could not store the room yet');
    } finally {
      this.handingOver.delete(roomId);
    }
  }

  /** Gives a room up without storing more (its unstored writes were never acked): SPEC K2, K6. */
  private loseRoom(roomId: string, reason: string): void {
    if (this.leases.epochOf(roomId) === undefined && !this.options.manager.hasRoom(roomId)) return;
    this.leases.forget(roomId);
    this.options.observer?.roomLost(reason);
    this.options.logger.warn({ roomId, reason }, 'room given up');
    this.options.manager.dropRoom(roomId, CloseCode.ServiceRestart, reason);
  }
}
