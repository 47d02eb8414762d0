import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RoomManager } from '../../manager/room-manager.js';
import type { Room } from '../../room/room.js';
import { DEFAULT_ROOM_LIMITS } from '../../room/room-limits.js';
import { HistoryHorizonError, HistoryUnavailableError } from '../../storage/history.js';
import { buildRoomExport, type ImportLimits, parseRoomExportText } from '../../storage/room-export.js';
import { RoomImportError, type RoomImportErrorCode } from '../../storage/room-import-error.js';
import { importIntoStorage, readAllHistory } from '../../storage/room-transfer.js';
import type { StorageBackend } from '../../storage/storage-backend.js';
import type { ServerConfig } from '../config/server-config.js';
import type { ServerLogger } from '../observability/create-logger.js';
import { AdminError, clockParameter, queryOf, readRestoreClock } from './admin-history-params.js';
import { BadRequestBody, readTextBody, sendJson } from './http-helpers.js';

/** Entries one history page holds at most, and by default. */
const MAX_HISTORY_PAGE = 1_000;
const DEFAULT_HISTORY_PAGE = 100;

const IMPORT_STATUS: Record<RoomImportErrorCode, number> = {
  import_too_large: 413,
  import_too_deep: 400,
  import_not_json: 400,
  import_invalid: 400,
  import_unsupported_version: 400,
  import_exceeds_room_limits: 413,
  room_not_empty: 409,
};

/** What the history routes need besides the room manager and storage. */
export interface AdminHistoryOptions {
  /** Largest import body, in bytes (`--max-import-bytes`). */
  maxImportBytes: number;
  /** The room limits an imported document must keep. */
  importLimits: ImportLimits;
  /** Told of each refused import, by code (for metrics). */
  onImportRefused?: (code: RoomImportErrorCode) => void;
}

/**
 * The history routes' options from the server's configuration: the room
 * limits an import must keep, and `limitHit` told of an oversized import
 * (`canvas_limit_hits_total{limit="maxImportBytes"}`).
 */
export function adminHistoryOptions(
  config: ServerConfig,
  limitHit: (limit: string) => void,
): AdminHistoryOptions {
  return {
    maxImportBytes: config.maxImportBytes,
    importLimits: {
      maxRoomKeys: config.maxRoomKeys,
      maxRoomBytes: config.maxRoomBytes,
      maxKeyLength: DEFAULT_ROOM_LIMITS.maxKeyLength,
      maxFieldsPerComponent: DEFAULT_ROOM_LIMITS.maxFieldsPerComponent,
      maxDepth: config.maxDepth,
    },
    onImportRefused: (code) => {
      if (code === 'import_too_large') limitHit('maxImportBytes');
    },
  };
}

/**
 * The history routes of the admin API (SPEC H1, H2, H4), reached through
 * {@link AdminApi} after its authentication, throttle and id checks. Every
 * error is JSON `{ error, code }` with a code documented in docs/history.md.
 *
 * - `GET /admin/rooms/:roomId/history?before=&limit=`: a page of entries, newest first
 * - `GET /admin/rooms/:roomId/history/:clock`: the document as of `clock`
 * - `POST /admin/rooms/:roomId/restore` with `{ "clock": n }`: restore as one write
 * - `GET /admin/rooms/:roomId/export?history=true`: the room as an export file
 * - `POST /admin/rooms/:roomId/import` with an export file: into a new or empty room
 */
export class AdminHistoryApi {
  constructor(
    private readonly manager: RoomManager,
    private readonly storage: StorageBackend,
    private readonly logger: ServerLogger,
    private readonly options: AdminHistoryOptions,
  ) {}

  /** True for the sub-paths these routes answer. */
  static handles(sub: string | undefined): boolean {
    return sub === 'history' || sub === 'restore' || sub === 'export' || sub === 'import';
  }

  /** Answers one request for `/admin/rooms/:roomId/:sub[/:arg]`. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    roomId: string,
    sub: string,
    arg: string | undefined,
  ): Promise<void> {
    try {
      await this.route(req, res, roomId, sub, arg);
    } catch (error) {
      this.sendError(res, error);
    }
  }

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    roomId: string,
    sub: string,
    arg: string | undefined,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const expected = sub === 'restore' || sub === 'import' ? 'POST' : 'GET';
    if (method !== expected) throw new AdminError(405, 'method_not_allowed', `use ${expected} here`);
    if (arg !== undefined && sub !== 'history') throw new AdminError(404, 'not_found', 'not found');
    switch (sub) {
      case 'history':
        return arg === undefined ? this.listHistory(req, res, roomId) : this.readAt(req, res, roomId, arg);
      case 'restore':
        return this.restore(req, res, roomId);
      case 'export':
        return this.export(req, res, roomId);
      default:
        return this.import(req, res, roomId);
    }
  }

  private async listHistory(req: IncomingMessage, res: ServerResponse, roomId: string): Promise<void> {
    const query = queryOf(req, ['before', 'limit']);
    const before = clockParameter(query.get('before'), 'before', 1);
    const limit = clockParameter(query.get('limit'), 'limit', 1, MAX_HISTORY_PAGE) ?? DEFAULT_HISTORY_PAGE;
    const room = await this.manager.getRoom(roomId);
    const page = await room.listHistory(before === undefined ? { limit } : { before, limit });
    sendJson(res, 200, { roomId, clock: room.getTimestamp(), horizon: await room.historyHorizon(), ...page });
  }

  private async readAt(
    req: IncomingMessage,
    res: ServerResponse,
    roomId: string,
    arg: string,
  ): Promise<void> {
    queryOf(req, []);
    const room = await this.manager.getRoom(roomId);
    const clock = this.clockInRoom(arg, 'clock', room);
    const stored = await room.readAt(clock);
    sendJson(res, 200, { roomId, clock, components: stored.components });
  }

  private async restore(req: IncomingMessage, res: ServerResponse, roomId: string): Promise<void> {
    queryOf(req, []);
    const text = await readTextBody(req, 4 * 1024);
    const room = await this.manager.getRoom(roomId);
    const clock = this.clockInRoom(readRestoreClock(text), 'clock', room);
    const restored = await room.restoreTo(clock);
    this.logger.info({ roomId, to: clock, clock: restored.clock }, 'room restored through the admin API');
    sendJson(res, 200, { roomId, restoredTo: clock, clock: restored.clock });
  }

  private async export(req: IncomingMessage, res: ServerResponse, roomId: string): Promise<void> {
    const query = queryOf(req, ['history']);
    const withHistory = query.get('history');
    if (withHistory !== null && withHistory !== 'true' && withHistory !== 'false') {
      throw new AdminError(400, 'invalid_parameter', 'history must be true or false');
    }
    const room = await this.manager.getRoom(roomId);
    await room.flush();
    const history =
      withHistory === 'true' ? await readAllHistory((page) => room.listHistory(page)) : undefined;
    const file = buildRoomExport(roomId, room.getStoredState(), history);
    res.setHeader(
      'content-disposition',
      `attachment; filename="room-export.json"; filename*=UTF-8''${encodeURIComponent(roomId)}.json`,
    );
    sendJson(res, 200, file);
  }

  private async import(req: IncomingMessage, res: ServerResponse, roomId: string): Promise<void> {
    queryOf(req, []);
    const { maxImportBytes, importLimits } = this.options;
    let text: string;
    try {
      text = await readTextBody(req, maxImportBytes);
    } catch (error) {
      if (error instanceof BadRequestBody && error.status === 413) {
        res.setHeader('connection', 'close');
        throw new RoomImportError('import_too_large', `the file exceeds ${maxImportBytes} bytes`);
      }
      throw error;
    }
    const file = parseRoomExportText(text, maxImportBytes, importLimits);
    // Refused before closing it, so the sessions of a room in use are not disturbed.
    const open = this.manager.getExistingRoom(roomId);
    if (open && open.getTimestamp() > 0) {
      throw new RoomImportError(
        'room_not_empty',
        `the room already holds data (clock ${open.getTimestamp()}); import into a new or empty room, or delete this one first`,
      );
    }
    await this.manager.whileClosed(roomId, () => importIntoStorage(this.storage.forRoom(roomId), file));
    this.logger.info(
      { roomId, from: file.roomId, clock: file.clock, keys: file.components.length },
      'room imported through the admin API',
    );
    sendJson(res, 201, { roomId, clock: file.clock, keys: file.components.length });
  }

  /** A clock of the path or body: a whole number no later than the room's clock. */
  private clockInRoom(value: unknown, name: string, room: Room): number {
    const clock = clockParameter(value, name, 0) as number;
    if (clock > room.getTimestamp()) {
      throw new AdminError(
        400,
        'invalid_clock',
        `${name} ${clock} is after the room clock ${room.getTimestamp()}`,
      );
    }
    return clock;
  }

  private sendError(res: ServerResponse, error: unknown): void {
    if (error instanceof AdminError) {
      sendJson(res, error.status, { error: error.message, code: error.code });
    } else if (error instanceof RoomImportError) {
      this.options.onImportRefused?.(error.code);
      const body: Record<string, string> = { error: error.message, code: error.code };
      if (error.path !== undefined) body.path = error.path;
      sendJson(res, IMPORT_STATUS[error.code], body);
    } else if (error instanceof HistoryHorizonError) {
      sendJson(res, 410, { error: error.message, code: error.code, horizon: error.horizon });
    } else if (error instanceof HistoryUnavailableError) {
      sendJson(res, 409, { error: error.message, code: error.code });
    } else if (error instanceof BadRequestBody) {
      if (error.status === 413) res.setHeader('connection', 'close');
      sendJson(res, error.status, {
        error: error.message,
        code: error.status === 413 ? 'body_too_large' : 'invalid_body',
      });
    } else {
      this.logger.error({ err: error }, 'admin history request failed');
      sendJson(res, 500, { error: 'internal error', code: 'internal' });
    }
  }
}
