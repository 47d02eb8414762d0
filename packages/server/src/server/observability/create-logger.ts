import { pino } from 'pino';
import type { ServerConfig } from '../config/server-config.js';

let stdoutGuarded = false;

/**
 * Structured JSON logs on stdout (`pino`). Tokens never reach a log line: the
 * server never logs connect URLs, and these paths are redacted as well.
 *
 * Lines go through `process.stdout`, not pino's own stdout writer: that writer
 * flushes synchronously when the process exits and retries forever once the
 * reader of stdout is gone (EPIPE), so `canvas-store-server | head -2` never
 * exited on SIGTERM. A logger must never decide whether the server can stop:
 * when the reader goes away, lines are dropped and the server carries on.
 */
export function createLogger(level: ServerConfig['logLevel']) {
  if (!stdoutGuarded) {
    stdoutGuarded = true;
    // Without a listener a broken pipe would be an uncaught error.
    process.stdout.on('error', () => {});
  }
  return pino(
    {
      level,
      base: { service: 'canvas-store-server' },
      redact: {
        paths: ['token', '*.token', 'url', '*.url', 'authorization', '*.authorization'],
        censor: '[redacted]',
      },
    },
    process.stdout,
  );
}

/** The server's logger type. */
export type ServerLogger = ReturnType<typeof createLogger>;
