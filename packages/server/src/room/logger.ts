/**
 * A structured logger: pino's `logger.warn({ roomId }, 'message')` shape, so a
 * pino instance can be passed directly.
 */
export interface Logger {
  debug(context: object, message: string): void;
  info(context: object, message: string): void;
  warn(context: object, message: string): void;
  error(context: object, message: string): void;
}

function write(level: string, context: object, message: string): void {
  console.error(JSON.stringify({ level, msg: message, ...serializeErrors(context) }));
}

function serializeErrors(context: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    out[key] = value instanceof Error ? { name: value.name, message: value.message } : value;
  }
  return out;
}

/** The default logger of the library: warnings and errors as JSON lines on stderr, nothing else. */
export const consoleLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (context, message) => write('warn', context, message),
  error: (context, message) => write('error', context, message),
};

/** A logger that drops everything, for tests and embedders that log elsewhere. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
