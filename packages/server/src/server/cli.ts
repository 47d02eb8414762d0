#!/usr/bin/env node
import { CanvasStoreServer } from './canvas-store-server.js';
import { helpText, loadConfig } from './config/load-config.js';
import { ConfigError, type ServerConfig } from './config/server-config.js';
import { createStaticFiles } from './http/static-files.js';
import { npmSwallowedFlagsHint } from './lifecycle/npm-swallowed-flags.js';
import { ShutdownError } from './lifecycle/shutdown-error.js';
import { StartupError } from './lifecycle/startup-error.js';
import { roomTransferHelp, runRoomTransfer } from './room-transfer-command.js';

/** Exit status of invalid configuration. */
const EXIT_CONFIG = 2;
/** Exit status of a failed start or a shutdown that lost edits. */
const EXIT_FAILURE = 1;

/** One human sentence on stderr, then exit: logs stay structured on stdout. */
function fail(status: number, sentence: string): never {
  process.stderr.write(`canvas-store-server: ${sentence}\n`);
  process.exit(status);
}

function readConfig(argv: string[]): ServerConfig {
  const npmHint = npmSwallowedFlagsHint(argv, process.env);
  if (npmHint) fail(EXIT_CONFIG, npmHint);
  try {
    return loadConfig(argv, process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      fail(
        EXIT_CONFIG,
        `invalid configuration: ${error.message} (canvas-store-server --help lists the options)`,
      );
    }
    throw error;
  }
}

/**
 * The `canvas-store-server` command: reads flags and environment variables,
 * starts the server, and shuts down gracefully on SIGTERM/SIGINT (exit 0 once
 * every room is persisted, 1 naming the rooms not stored when storage fails or
 * `--shutdown-timeout` passes). Invalid configuration exits 2; a server that
 * cannot start (storage, port) exits 1; each with one sentence on stderr.
 * `canvas-store-server export|import --room <id> ...` moves a room between a
 * stopped server's storage and a file instead (docs/history.md).
 */
async function main(argv: string[]): Promise<void> {
  const [subcommand, ...rest] = argv;
  if (subcommand === 'export' || subcommand === 'import') {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(roomTransferHelp(subcommand));
      return;
    }
    const outcome = await runRoomTransfer(subcommand, rest, process.env);
    if (outcome.status !== 0) fail(outcome.status, outcome.message);
    process.stderr.write(`canvas-store-server: ${outcome.message}\n`);
    // Storage is closed; exit now rather than wait on a worker thread winding down.
    process.exit(0);
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText());
    return;
  }
  const config = readConfig(argv);
  let server: CanvasStoreServer;
  try {
    server = new CanvasStoreServer({
      config,
      fallback: config.serveClient ? createStaticFiles() : undefined,
    });
  } catch (error) {
    if (error instanceof StartupError) fail(EXIT_FAILURE, error.message);
    throw error;
  }
  let exiting = false;
  const shutdown = (signal: string) => {
    if (exiting) return;
    exiting = true;
    server.logger.info({ signal }, 'signal received');
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        server.logger.error({ err: error }, 'shutdown finished with errors');
        const sentence = error instanceof ShutdownError ? error.message : `shutdown failed: ${String(error)}`;
        fail(EXIT_FAILURE, sentence);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  // Last resort: log and keep serving; nothing a client sends should get here.
  process.on('uncaughtException', (error) => server.logger.fatal({ err: error }, 'uncaught exception'));
  process.on('unhandledRejection', (error) => server.logger.error({ err: error }, 'unhandled rejection'));
  try {
    await server.start();
  } catch (error) {
    server.logger.fatal({ err: error }, 'server failed to start');
    fail(EXIT_FAILURE, error instanceof StartupError ? error.message : `cannot start: ${String(error)}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`canvas-store-server: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(EXIT_FAILURE);
});
