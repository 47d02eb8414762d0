#!/usr/bin/env node
import { CanvasStoreServer } from './canvas-store-server.js';
import { helpText, loadConfig } from './config/load-config.js';
import { ConfigError } from './config/server-config.js';
import { createStaticFiles } from './http/static-files.js';

/**
 * The `canvas-store-server` command: reads flags and environment variables,
 * starts the server, and shuts down gracefully on SIGTERM/SIGINT (exit 0 once
 * every room is persisted). Invalid configuration exits with status 2.
 */
async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText());
    return;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(argv, process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`canvas-store-server: invalid configuration: ${error.message}\n`);
      process.stderr.write('Run canvas-store-server --help for the options.\n');
      process.exit(2);
    }
    throw error;
  }
  const server = new CanvasStoreServer({
    config,
    fallback: config.serveClient ? createStaticFiles() : undefined,
  });
  let exiting = false;
  const shutdown = (signal: string) => {
    if (exiting) return;
    exiting = true;
    server.logger.info({ signal }, 'signal received');
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        server.logger.error({ err: error }, 'shutdown finished with errors');
        process.exit(1);
      },
    );
  };
  // If whoever reads our logs goes away (a closed pipe), keep running and still shut down cleanly.
  process.stdout.on('error', () => {});
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  // Last resort: log and keep serving; nothing a client sends should get here.
  process.on('uncaughtException', (error) => server.logger.fatal({ err: error }, 'uncaught exception'));
  process.on('unhandledRejection', (error) => server.logger.error({ err: error }, 'unhandled rejection'));
  try {
    await server.start();
  } catch (error) {
    server.logger.fatal({ err: error }, 'server failed to start');
    process.exit(1);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`canvas-store-server: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
