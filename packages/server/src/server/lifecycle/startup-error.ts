/**
 * The server cannot start, for a reason the person running it can fix. The
 * message is one human sentence naming the flag, variable or path involved and
 * what to do; the command prints it on stderr and exits 1.
 *
 * @example
 * ```ts
 * throw new StartupError('port 8080 is already in use (--port or PORT): stop the other server or choose another port');
 * ```
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/** The short reason of a system error: `EACCES: permission denied` rather than a stack. */
export function reasonOf(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  if (typeof code === 'string' && typeof message === 'string') {
    // Node's messages repeat the syscall and path after the reason; the sentence already names the path.
    const reason = message.replace(/^\w+: /, '').replace(/, \w+ '.*'$/, '');
    return `${code}: ${reason}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * A listen failure as one sentence naming the flag or variable to change.
 */
export function listenError(error: unknown, host: string, port: number): StartupError {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(
        `port ${port} on ${host} is already in use (set by --port or PORT): stop the process using it, or choose another port with --port`,
        { cause: error },
      );
    case 'EACCES':
      return new StartupError(
        `not allowed to listen on ${where} (--port or PORT): ports below 1024 need privileges, so choose a port above 1023 with --port`,
        { cause: error },
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new StartupError(
        `cannot listen on host ${host} (--host or HOST): it is not an address of this machine; use 0.0.0.0, 127.0.0.1 or one of its addresses`,
        { cause: error },
      );
    default:
      return new StartupError(`cannot listen on ${where} (--host/--port): ${reasonOf(error)}`, {
        cause: error,
      });
  }
}
