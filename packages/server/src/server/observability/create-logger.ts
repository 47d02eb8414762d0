import { pino } from 'pino';
import type { ServerConfig } from '../config/server-config.js';

/**
 * Structured JSON logs on stdout (`pino`). Tokens never reach a log line: the
 * server never logs connect URLs, and these paths are redacted as well.
 */
export function createLogger(level: ServerConfig['logLevel']) {
  return pino({
    level,
    base: { service: 'canvas-store-server' },
    redact: {
      paths: ['token', '*.token', 'url', '*.url', 'authorization', '*.authorization'],
      censor: '[redacted]',
    },
  });
}

/** The server's logger type. */
export type ServerLogger = ReturnType<typeof createLogger>;
