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

  private async get<T>(path: string): Promise<T> {
    let response: Response;
    try {
      response = await fetch(path, {
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
