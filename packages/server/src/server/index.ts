/**
 * The runnable server as a library: start the same server as the
 * `canvas-store-server` command from your own code.
 *
 * @example
 * ```ts
 * import { CanvasStoreServer, loadConfig } from 'canvas-store-server/server';
 * const server = new CanvasStoreServer({ config: loadConfig(['--port', '9000'], process.env) });
 * await server.start();
 * ```
 *
 * @packageDocumentation
 */
export {
  type Authorizer,
  createJwtAuthorizer,
  type JwtAuthOptions,
  type TokenMetadata,
} from './auth/jwt-authorizer.js';
export { roomClaimMatches } from './auth/room-pattern.js';
export {
  CanvasStoreServer,
  type CanvasStoreServerOptions,
  type FallbackHandler,
} from './canvas-store-server.js';
export { helpText, loadConfig } from './config/load-config.js';
export { OPTION_SPECS, type OptionSpec } from './config/option-specs.js';
export {
  ConfigError,
  parseServerConfig,
  type ServerConfig,
  type ServerConfigInput,
} from './config/server-config.js';
