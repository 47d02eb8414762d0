/**
 * The wire protocol version this server speaks.
 *
 * A `reconnect` frame announcing any other version is answered with a
 * `version-mismatch` frame and nothing of it is applied (SPEC section 3).
 *
 * @example
 * ```ts
 * import { PROTOCOL_VERSION } from 'canvas-store-server';
 * console.log(PROTOCOL_VERSION); // 2
 * ```
 */
export const PROTOCOL_VERSION = 2;
