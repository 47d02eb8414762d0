import type { IncomingMessage, ServerResponse } from 'node:http';

/** Sends a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/** A request body that is too large or not JSON. */
export class BadRequestBody extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Reads a JSON request body of at most `maxBytes`. */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const text = await readTextBody(req, maxBytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestBody('body is not valid JSON', 400);
  }
}

/**
 * Reads a request body of at most `maxBytes` as UTF-8 text. A larger body is
 * drained without being kept and refused with status 413.
 */
export function readTextBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (tooLarge) return; // drain the rest without keeping it, so the 413 can be delivered
      if (size > maxBytes) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) {
        reject(new BadRequestBody(`body exceeds ${maxBytes} bytes`, 413));
        return;
      }
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}
