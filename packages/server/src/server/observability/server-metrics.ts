import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RoomObserver } from '../../room/room-observer.js';

/**
 * The server's Prometheus metrics (`prom-client`), in a registry of its own so
 * several servers in one process (tests) do not collide.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly connections: Gauge;
  readonly rooms: Gauge;
  readonly framesIn: Counter<'type'>;
  readonly framesOut: Counter<'type'>;
  readonly bytesIn: Counter;
  readonly bytesOut: Counter;
  readonly framesRejected: Counter<'reason'>;
  readonly ackLatency: Histogram;
  readonly commitLatency: Histogram;
  readonly commitFailures: Counter;
  readonly closes: Counter<'code'>;
  readonly heartbeatTimeouts: Counter;
  readonly connectionsRefused: Counter<'code'>;
  readonly limitHits: Counter<'limit'>;
  readonly principalRefusals: Counter<'limit'>;
  readonly presenceTicks: Counter;
  readonly presenceCoalesced: Counter;
  readonly presenceBytesSaved: Counter;
  readonly historyDropped: Counter<'reason'>;
  readonly heldFrames: Gauge;
  readonly heldBytes: Gauge;
  /** Frames and characters held for durability in every room, kept as plain numbers on the hot path. */
  private readonly held = { frames: 0, bytes: 0 };
  private readonly pendingFramesOut = new Map<string, number>();
  private pendingBytesOut = 0;
  /** Hooks for every room of this server. */
  readonly roomObserver: RoomObserver;

  constructor(countRooms: () => number) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.connections = new Gauge({
      name: 'canvas_connections',
      help: 'Open WebSocket connections',
      registers,
    });
    this.rooms = new Gauge({
      name: 'canvas_rooms',
      help: 'Rooms open in this process',
      registers,
      collect() {
        this.set(countRooms());
      },
    });
    this.framesIn = new Counter({
      name: 'canvas_frames_in_total',
      help: 'Valid frames received, by type',
      labelNames: ['type'],
      registers,
    });
    const flushFramesOut = () => this.flushFramesOut();
    this.framesOut = new Counter({
      name: 'canvas_frames_out_total',
      help: 'Frames sent, by type',
      labelNames: ['type'],
      registers,
      collect: flushFramesOut,
    });
    this.bytesIn = new Counter({
      name: 'canvas_bytes_in_total',
      help: 'Bytes received in frames',
      registers,
    });
    this.bytesOut = new Counter({
      name: 'canvas_bytes_out_total',
      help: 'Bytes sent in frames',
      registers,
      collect: flushFramesOut,
    });
    this.framesRejected = new Counter({
      name: 'canvas_frames_rejected_total',
      help: 'Frames rejected, by reason (error code)',
      labelNames: ['reason'],
      registers,
    });
    this.ackLatency = new Histogram({
      name: 'canvas_ack_latency_seconds',
      help: 'Time from receiving a write to sending its ack, commit included',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.commitLatency = new Histogram({
      name: 'canvas_storage_commit_seconds',
      help: 'Duration of storage commits',
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.commitFailures = new Counter({
      name: 'canvas_storage_commit_failures_total',
      help: 'Storage commits that failed (and will be retried)',
      registers,
    });
    this.closes = new Counter({
      name: 'canvas_closes_total',
      help: 'Connections closed, by close code',
      labelNames: ['code'],
      registers,
    });
    this.heartbeatTimeouts = new Counter({
      name: 'canvas_heartbeat_timeouts_total',
      help: 'Connections terminated because they did not answer a heartbeat ping (peers that vanished)',
      registers,
    });
    this.connectionsRefused = new Counter({
      name: 'canvas_connections_refused_total',
      help: 'Connections refused before a session existed, by close code',
      labelNames: ['code'],
      registers,
    });
    this.limitHits = new Counter({
      name: 'canvas_limit_hits_total',
      help: 'Frames refused or sessions closed by a limit or quota (SPEC B6, B7), by limit name',
      labelNames: ['limit'],
      registers,
    });
    this.principalRefusals = new Counter({
      name: 'canvas_principal_refusals_total',
      help: 'Connections and requests refused by a per-principal limit or the handshake timeout, by limit',
      labelNames: ['limit'],
      registers,
    });
    this.presenceTicks = new Counter({
      name: 'canvas_presence_ticks_total',
      help: 'Presence ticks that sent coalesced presence or client counts (SPEC R1, R2)',
      registers,
    });
    this.presenceCoalesced = new Counter({
      name: 'canvas_presence_coalesced_updates_total',
      help: 'Presence updates and client counts folded into a later one of the same tick',
      registers,
    });
    this.presenceBytesSaved = new Counter({
      name: 'canvas_presence_bytes_saved_total',
      help: 'Estimate: bytes the uncoalesced presence frames would have had, minus the bytes sent',
      registers,
    });
    this.historyDropped = new Counter({
      name: 'canvas_history_entries_dropped_total',
      help: 'History entries compacted away (SPEC H3), by retention: count, age or bytes',
      labelNames: ['reason'],
      registers,
    });
    const held = this.held;
    this.heldFrames = new Gauge({
      name: 'canvas_held_frames',
      help: 'Outgoing frames held until the writes before them are durable (SPEC O4), in every room',
      registers,
      collect() {
        this.set(held.frames);
      },
    });
    this.heldBytes = new Gauge({
      name: 'canvas_held_bytes',
      help: 'Characters (about bytes) of the outgoing frames held until the writes before them are durable',
      registers,
      collect() {
        this.set(held.bytes);
      },
    });
    this.roomObserver = {
      frameAccepted: (type, bytes) => {
        this.framesIn.inc({ type });
        this.bytesIn.inc(bytes);
      },
      frameRejected: (reason) => this.framesRejected.inc({ reason }),
      limitHit: (limit) => this.limitHits.inc({ limit }),
      writeAcked: (latencyMs) => this.ackLatency.observe(latencyMs / 1000),
      commitFinished: (durationMs, _components, ok) => {
        this.commitLatency.observe(durationMs / 1000);
        if (!ok) this.commitFailures.inc();
      },
      presenceTick: (coalescedUpdates, bytesSaved) => {
        this.presenceTicks.inc();
        if (coalescedUpdates > 0) this.presenceCoalesced.inc(coalescedUpdates);
        if (bytesSaved > 0) this.presenceBytesSaved.inc(bytesSaved);
      },
      framesHeld: (frames, bytes) => {
        held.frames += frames;
        held.bytes += bytes;
      },
    };
  }

  /**
   * Counts one sent frame. On the hot path (once per recipient), so it keeps
   * plain totals that are handed to prom-client when metrics are collected,
   * instead of hashing labels per frame.
   */
  countFrameOut(type: string, bytes: number): void {
    this.pendingFramesOut.set(type, (this.pendingFramesOut.get(type) ?? 0) + 1);
    this.pendingBytesOut += bytes;
  }

  private flushFramesOut(): void {
    for (const [type, count] of this.pendingFramesOut) this.framesOut.inc({ type }, count);
    this.pendingFramesOut.clear();
    if (this.pendingBytesOut > 0) this.bytesOut.inc(this.pendingBytesOut);
    this.pendingBytesOut = 0;
  }

  /** The exposition text for `GET /metrics`. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
