/** What a principal (a token subject or a remote address) may hold at once. */
interface PrincipalLimits {
  /** Connections open at once. */
  maxConnections: number;
  /** Distinct rooms with at least one of its connections. */
  maxRooms: number;
}

/** Which limit a connection would pass. */
type PrincipalRefusal = 'connections' | 'rooms';

interface Holdings {
  connections: number;
  /** Connections per room. */
  rooms: Map<string, number>;
}

/**
 * Counts the connections and distinct rooms each principal holds (SPEC B8).
 * Pure bookkeeping: the server admits a connection when it is accepted and
 * calls the returned release once it closes. Memory is bounded by the open
 * connections: a principal with nothing open is forgotten.
 *
 * @example
 * ```ts
 * const bySubject = new PrincipalLedger({ maxConnections: 50, maxRooms: 25 });
 * const admitted = bySubject.admit('user-1', 'room-a');
 * if (typeof admitted === 'string') refuse(admitted); else socket.once('close', admitted);
 * ```
 */
export class PrincipalLedger {
  private readonly holdings = new Map<string, Holdings>();

  constructor(private readonly limits: PrincipalLimits) {}

  /**
   * Counts one more connection of `principal` in `roomId`, or names the limit
   * it would pass (and counts nothing). The release function is idempotent.
   */
  admit(principal: string, roomId: string): PrincipalRefusal | (() => void) {
    const held = this.holdings.get(principal);
    if (held) {
      if (held.connections >= this.limits.maxConnections) return 'connections';
      if (!held.rooms.has(roomId) && held.rooms.size >= this.limits.maxRooms) return 'rooms';
    }
    const entry = held ?? { connections: 0, rooms: new Map<string, number>() };
    if (!held) this.holdings.set(principal, entry);
    entry.connections++;
    entry.rooms.set(roomId, (entry.rooms.get(roomId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(principal, roomId);
    };
  }

  /** Connections and distinct rooms `principal` holds now. */
  holdingsOf(principal: string): { connections: number; rooms: number } {
    const held = this.holdings.get(principal);
    return { connections: held?.connections ?? 0, rooms: held?.rooms.size ?? 0 };
  }

  /** Principals holding anything. */
  get size(): number {
    return this.holdings.size;
  }

  private release(principal: string, roomId: string): void {
    const held = this.holdings.get(principal);
    if (!held) return;
    held.connections--;
    const inRoom = (held.rooms.get(roomId) ?? 1) - 1;
    if (inRoom > 0) held.rooms.set(roomId, inRoom);
    else held.rooms.delete(roomId);
    if (held.connections <= 0) this.holdings.delete(principal);
  }
}
