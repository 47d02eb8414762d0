import { readFile, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option } from 'commander';
import { DEFAULT_ROOM_LIMITS } from '../room/room-limits.js';
import { parseRoomExportText } from '../storage/room-export.js';
import { RoomImportError } from '../storage/room-import-error.js';
import {
  exportFromStorage,
  importIntoStorage,
  isEmptyRoom,
  readStoredRoom,
} from '../storage/room-transfer.js';
import { helpText, loadConfigWith } from './config/load-config.js';
import { ConfigError, type ServerConfig } from './config/server-config.js';
import { reasonOf, StartupError } from './lifecycle/startup-error.js';
import { openServerStorage } from './open-server-storage.js';

/** The subcommands that move a room between storage and a file. */
export type RoomTransferCommand = 'export' | 'import';

/** What a subcommand ends with: an exit status and a sentence for stderr. */
export interface CommandOutcome {
  status: number;
  message: string;
}

/** The options a subcommand takes besides the server's own. */
export function roomTransferOptions(command: RoomTransferCommand): Option[] {
  const room = new Option('--room <id>', `the room to ${command}`);
  if (command === 'export') {
    return [
      room,
      new Option('--out <file>', 'write the export to this file (default: standard output)'),
      new Option('--with-history', 'include the history entries (clock, time, author, keys)'),
    ];
  }
  return [room, new Option('--in <file>', 'the export file to read')];
}

/** `--help` of a subcommand. */
export function roomTransferHelp(command: RoomTransferCommand): string {
  return helpText(roomTransferOptions(command), `canvas-store-server ${command}`);
}

/**
 * `canvas-store-server export|import`: works on the storage of a STOPPED
 * server, chosen by the same `--storage`, `--data-dir` and `--postgres-url`
 * options (and variables) as the server. Exit 0 when done, 1 when refused
 * or storage fails, 2 for wrong options; the outcome is one sentence.
 */
export async function runRoomTransfer(
  command: RoomTransferCommand,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<CommandOutcome> {
  let config: ServerConfig;
  let values: Record<string, unknown>;
  try {
    ({ config, values } = loadConfigWith(argv, env, roomTransferOptions(command)));
  } catch (error) {
    if (error instanceof ConfigError) return { status: 2, message: `invalid options: ${error.message}` };
    throw error;
  }
  const roomId = values.room;
  if (typeof roomId !== 'string' || roomId === '') {
    return { status: 2, message: `--room is required: canvas-store-server ${command} --room <id> ...` };
  }
  if (config.storage === 'memory') {
    return {
      status: 2,
      message: `memory storage keeps nothing once the server stops, so there is no room to ${command}; use --storage sqlite, file or postgres (as the server ran)`,
    };
  }
  if (command === 'import' && typeof values.in !== 'string') {
    return { status: 2, message: '--in is required: canvas-store-server import --room <id> --in <file>' };
  }
  let backend: ReturnType<typeof openServerStorage>;
  try {
    backend = openServerStorage(config);
  } catch (error) {
    if (error instanceof StartupError) return { status: 1, message: error.message };
    throw error;
  }
  try {
    return command === 'export'
      ? await exportRoom(backend, roomId, values, config)
      : await importRoom(backend, roomId, values.in as string, config);
  } catch (error) {
    if (error instanceof RoomImportError) {
      const where = error.path ? ` (at ${error.path})` : '';
      return {
        status: 1,
        message: `import refused, nothing was changed: ${error.message}${where} [${error.code}]`,
      };
    }
    return { status: 1, message: `${command} failed: ${reasonOf(error)}` };
  } finally {
    await backend.close().catch(() => {});
  }
}

async function exportRoom(
  backend: ReturnType<typeof openServerStorage>,
  roomId: string,
  values: Record<string, unknown>,
  config: ServerConfig,
): Promise<CommandOutcome> {
  const storage = backend.forRoom(roomId);
  const file = await exportFromStorage(storage, roomId, { withHistory: values.withHistory === true });
  await (storage as { close?: () => Promise<void> }).close?.();
  if (isEmptyRoom({ timestamp: file.clock, components: file.components })) {
    return { status: 1, message: `room ${JSON.stringify(roomId)} has no stored data in ${where(config)}` };
  }
  const text = JSON.stringify(file);
  const summary = `room ${JSON.stringify(roomId)} (clock ${file.clock}, ${file.components.length} keys${file.history ? `, ${file.history.length} history entries` : ''})`;
  if (typeof values.out === 'string') {
    await writeFile(values.out, text);
    return { status: 0, message: `exported ${summary} to ${resolve(values.out)}` };
  }
  await new Promise<void>((done, fail) =>
    process.stdout.write(text, (error) => (error ? fail(error) : done())),
  );
  return { status: 0, message: `exported ${summary}` };
}

async function importRoom(
  backend: ReturnType<typeof openServerStorage>,
  roomId: string,
  path: string,
  config: ServerConfig,
): Promise<CommandOutcome> {
  const max = config.maxImportBytes;
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    return { status: 1, message: `cannot read ${resolve(path)}: ${reasonOf(error)}` };
  }
  if (size > max) {
    throw new RoomImportError(
      'import_too_large',
      `${resolve(path)} is ${size} bytes; at most ${max} are read (--max-import-bytes)`,
    );
  }
  const file = parseRoomExportText(await readFile(path, 'utf8'), max, {
    maxRoomKeys: config.maxRoomKeys,
    maxRoomBytes: config.maxRoomBytes,
    maxKeyLength: DEFAULT_ROOM_LIMITS.maxKeyLength,
    maxFieldsPerComponent: DEFAULT_ROOM_LIMITS.maxFieldsPerComponent,
    maxDepth: config.maxDepth,
  });
  const storage = backend.forRoom(roomId);
  await importIntoStorage(storage, file);
  const check = await readStoredRoom(backend.forRoom(roomId));
  return {
    status: 0,
    message: `imported ${file.components.length} keys at clock ${check.timestamp} into room ${JSON.stringify(roomId)} in ${where(config)}`,
  };
}

function where(config: ServerConfig): string {
  return config.storage === 'postgres'
    ? 'the PostgreSQL database'
    : `${config.storage} storage under ${resolve(config.dataDir)}`;
}
