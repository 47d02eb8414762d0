import type { IncomingMessage } from 'node:http';

/** A refused admin request: HTTP status, a stable code (docs/history.md) and a sentence. */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

/**
 * The query parameters of a request, refusing any not in `allowed` and any
 * given twice, so that a typo is an error rather than silently ignored.
 */
export function queryOf(req: IncomingMessage, allowed: readonly string[]): URLSearchParams {
  const query = new URL(req.url ?? '/', 'http://admin.invalid').searchParams;
  const seen = new Set<string>();
  for (const name of query.keys()) {
    if (!allowed.includes(name)) {
      const known = allowed.length === 0 ? 'none are' : `${allowed.join(', ')} are`;
      throw new AdminError(
        400,
        'invalid_parameter',
        `unknown parameter ${JSON.stringify(name.slice(0, 64))}: ${known} accepted`,
      );
    }
    if (seen.has(name)) throw new AdminError(400, 'invalid_parameter', `${name} is given twice`);
    seen.add(name);
  }
  return query;
}

/**
 * A whole number in `[min, max]` from a path segment, query value or JSON
 * number; undefined when absent (`null`/`undefined`). Decimal digits only in
 * strings: no sign, exponent, spaces or hex.
 *
 * @throws {@link AdminError} `invalid_clock` (or `invalid_parameter` for `limit`).
 */
export function clockParameter(
  value: unknown,
  name: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === null || value === undefined) return undefined;
  let number = Number.NaN;
  if (typeof value === 'number') number = value;
  else if (typeof value === 'string' && /^[0-9]{1,16}$/.test(value)) number = Number(value);
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    const code = name === 'limit' ? 'invalid_parameter' : 'invalid_clock';
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    throw new AdminError(400, code, `${name} must be a whole number ${range}`);
  }
  return number;
}

/** The `clock` of a restore body `{ "clock": n }`. */
export function readRestoreClock(text: string): unknown {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AdminError(400, 'invalid_body', 'body must be JSON: { "clock": <number> }');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AdminError(400, 'invalid_body', 'body must be an object: { "clock": <number> }');
  }
  const names = Object.keys(body);
  if (names.length !== 1 || names[0] !== 'clock') {
    throw new AdminError(400, 'invalid_body', 'body must be { "clock": <number> } and nothing else');
  }
  const clock = (body as { clock: unknown }).clock;
  if (typeof clock !== 'number') throw new AdminError(400, 'invalid_clock', 'clock must be a number');
  return clock;
}
