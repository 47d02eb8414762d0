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
import { LinkDispatch } from './link-dispatch.js';
import { LINK_DROP_ENV, LinkDropHook } from './link-drop-hook.js';
import type { LinkMessage } from './link-messages.js';
import { MembershipTick } from './membership-tick.js';
import { NodeLinks } from './node-links.js';
import { preferredOwner } from './rendezvous.js';
import { RoomHandover } from './room-handover.js';
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
  private readonly handover: RoomHandover;
  private readonly instances: RoomInstances;
  private readonly dispatch: LinkDispatch;
  private readonly membership: MembershipTick;
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
    this.handover = new RoomHandover(options.manager, this.leases, options.logger, options.observer);
    this.instances = new RoomInstances(
      options.manager,
      this.leases,
      options.logger,
      options.observer,
      this.handover.rooms,
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
        // The dispatch is built below, once the inbound sessions it routes to exist.
        message: (from, message) => this.dispatch.message(from, message),
        broken: (node, why) => this.dispatch.broken(node, why),
        envelope: observer ? (direction, count) => observer.linkEnvelope(direction, count) : undefined,
        gap: (_node, lost) => observer?.linkGap(lost),
        peers: () => this.dispatch.peers(),
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
    this.dispatch = new LinkDispatch({
      inbound: this.inbound,
      outbound: this.outbound,
      links: this.links,
      logger: options.logger,
      observer,
    });
    this.membership = new MembershipTick({
      nodeId: options.nodeId,
      leaseMs: options.leaseMs,
      redis: this.redis,
      leases: this.leases,
      instances: this.instances,
      handover: this.handover,
      dispatch: this.dispatch,
      manager: options.manager,
      opening: this.opening,
      stopping: () => this.stopping,
      logger: options.logger,
      observer,
    });
  }

  /** Connects to Redis, joins the membership and starts renewing. Rejects when Redis cannot be reached. */
  async start(): Promise<void> {
    await Promise.all([this.commandRedis.connect(), this.subscriber.connect()]);
    await this.links.start();
    await this.membership.start();
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
          this.handover.lose(roomId, 'a newer owner fenced the room');
        } else if (this.instances.termOf(roomId) === term) {
          this.instances.drop(roomId, 'a newer owner fenced the room');
        }
      },
    };
  }

  /** True while Redis answers and this node's membership is fresh (for `/readyz`). */
  get ready(): boolean {
    return !this.stopping && this.redis.connected && this.membership.fresh;
  }

  /** This node's view of the cluster. */
  status(): ClusterStatus {
    return {
      nodeId: this.nodeId,
      redisConnected: this.redis.connected,
      membershipFresh: this.membership.fresh,
      liveNodes: Array.from(this.membership.live).sort(),
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
    this.membership.stop();
    await this.redis.leave().catch(() => {});
    for (const connection of Array.from(this.outbound.values())) connection.restart('node stopping');
    await Promise.allSettled(
      this.leases.roomIds.map((roomId) => this.handover.handOver(roomId, 'node stopping')),
    );
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
      if (this.leases.isValid(roomId) && !this.handover.has(roomId)) {
        this.instances.dropStale(roomId);
        return this.localRoute(roomId);
      }
      if (!this.handover.has(roomId)) {
        const holder = await this.redis.holder(roomId);
        if (holder && holder.node !== this.nodeId) {
          if (this.membership.live.has(holder.node)) return { local: false, node: holder.node };
          // A dead node's lease: wait until it runs out.
        } else {
          const preferred = preferredOwner(roomId, this.membership.live) ?? this.nodeId;
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

  // Internals

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
    if (this.stopping || this.handover.has(roomId)) return { owned: false, holder: undefined };
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
}
