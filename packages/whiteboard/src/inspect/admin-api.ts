/** A room in `GET /admin/rooms`. */
export interface RoomSummary {
  roomId: string;
  sessions: number;
  clock: number;
}

/** A session of `GET /admin/rooms/:roomId`. */
interface SessionSummary {
  sessionId: string;
  clientId: string;
  permissions: string;
  metadata?: unknown;
}

/** `GET /admin/rooms/:roomId`. */
export interface RoomDetails {
  roomId: string;
  clock: number;
  sessions: SessionSummary[];
}

/** One committed write of `GET /admin/rooms/:roomId/history`. */
export interface HistoryEntry {
  clock: number;
  /** Milliseconds since the epoch. */
  time: number;
  /** The writing client; '' for the server (restores, imports, admin patches). */
  clientId: string;
  keys: string[];
}

/** A page of a room's history, newest first. */
export interface HistoryPage {
  clock: number;
  /** The oldest clock whose state can still be read. */
  horizon: number;
  entries: HistoryEntry[];
  nextBefore: number | null;
}

/** A stored component: fields, their stamps; a tombstone has `data: { _exists: false }`. */
export interface StoredComponent {
  key: string;
  data: Record<string, unknown>;
  stamps: Record<string, number>;
}

/** A failed admin request; `status` is the HTTP status (0: the server was unreachable). */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

/** The server's admin HTTP API (`/admin/...`), authenticated with the admin secret. */
export class AdminApi {
  constructor(private readonly secret: string) {}

  /** Open rooms with their session counts and clocks. */
  async rooms(): Promise<RoomSummary[]> {
    const body = await this.get<{ rooms: RoomSummary[] }>('/admin/rooms');
    return body.rooms;
  }

  /** One room's clock and sessions (this opens the room on the server). */
  room(roomId: string): Promise<RoomDetails> {
    return this.get(`/admin/rooms/${encodeURIComponent(roomId)}`);
  }

  /** A room's live document with its stamps and clock. */
  document(roomId: string): Promise<unknown> {
    return this.get(`/admin/rooms/${encodeURIComponent(roomId)}/document`);
  }

  /** The newest `limit` entries of a room's history. */
  history(roomId: string, limit: number): Promise<HistoryPage> {
    return this.get(`/admin/rooms/${encodeURIComponent(roomId)}/history?limit=${limit}`);
  }

  /** The room's stored components as of `clock`. */
  async documentAt(roomId: string, clock: number): Promise<StoredComponent[]> {
    const body = await this.get<{ components: StoredComponent[] }>(
      `/admin/rooms/${encodeURIComponent(roomId)}/history/${clock}`,
    );
    return body.components;
  }

  /** Restores the room to its state at `clock` (one new write); resolves with the new clock. */
  async restore(roomId: string, clock: number): Promise<number> {
    const body = await this.get<{ clock: number }>(`/admin/rooms/${encodeURIComponent(roomId)}/restore`, {
      method: 'POST',
      body: JSON.stringify({ clock }),
    });
    return body.clock;
  }

  /** The room as an export file (JSON text). */
  async exportRoom(roomId: string): Promise<string> {
    return JSON.stringify(await this.get<unknown>(`/admin/rooms/${encodeURIComponent(roomId)}/export`));
  }

  private async get<T>(path: string, init: { method?: string; body?: string } = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(path, {
        ...init,
        headers: { authorization: `Bearer ${this.secret}` },
        cache: 'no-store',
      });
    } catch {
      throw new AdminError(0, 'The server cannot be reached.');
    }
    const body = (await response.json().catch(() => null)) as { error?: string } | null;
    if (!response.ok) {
      const reason = body?.error ?? response.statusText;
      if (response.status === 401) throw new AdminError(401, 'The admin secret was not accepted.');
      throw new AdminError(response.status, `${response.status}: ${reason}`);
    }
    return body as T;
  }
}
