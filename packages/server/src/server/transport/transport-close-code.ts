/**
 * The close code `ws` sent when it closed a connection over a protocol error
 * (an oversized frame, invalid UTF-8, a bad opcode). `ws` keeps it on the error
 * under a symbol described `status-code`; undefined for other errors.
 */
export function transportCloseCode(error: Error): number | undefined {
  for (const symbol of Object.getOwnPropertySymbols(error)) {
    if (symbol.description !== 'status-code') continue;
    const code = (error as unknown as Record<symbol, unknown>)[symbol];
    if (typeof code === 'number') return code;
  }
  return undefined;
}
