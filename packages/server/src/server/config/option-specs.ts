import type { ServerConfigInput } from './server-config.js';

/** One configuration option: its flag, its environment variable and what it does. */
export interface OptionSpec {
  key: keyof ServerConfigInput;
  flag: string;
  env: string;
  description: string;
  /** Shown in help; the real default lives in the schema. */
  defaultText?: string;
  kind?: 'value' | 'list' | 'negatable';
}

/** Every option of the runnable server, in the order docs/operations.md documents them. */
export const OPTION_SPECS: readonly OptionSpec[] = [
  {
    key: 'port',
    flag: '--port <port>',
    env: 'PORT',
    description: 'TCP port to listen on',
    defaultText: '8080',
  },
  {
    key: 'host',
    flag: '--host <host>',
    env: 'HOST',
    description: 'interface to bind',
    defaultText: '0.0.0.0',
  },
  {
    key: 'dataDir',
    flag: '--data-dir <dir>',
    env: 'CANVAS_DATA_DIR',
    description: 'directory for sqlite and file storage',
    defaultText: './data',
  },
  {
    key: 'storage',
    flag: '--storage <kind>',
    env: 'CANVAS_STORAGE',
    description: 'storage backend: sqlite, file, memory or postgres',
    defaultText: 'sqlite',
  },
  {
    key: 'postgresUrl',
    flag: '--postgres-url <url>',
    env: 'DATABASE_URL',
    description: 'PostgreSQL connection URL (with --storage postgres)',
  },
  {
    key: 'postgresPoolSize',
    flag: '--postgres-pool-size <n>',
    env: 'CANVAS_POSTGRES_POOL_SIZE',
    description: 'PostgreSQL connections in the pool',
    defaultText: '10',
  },
  {
    key: 'postgresQueryTimeoutMs',
    flag: '--postgres-query-timeout <ms>',
    env: 'CANVAS_POSTGRES_QUERY_TIMEOUT_MS',
    description: 'give up on a PostgreSQL query (and its connection) after this long; the commit is retried',
    defaultText: '30000',
  },
  {
    key: 'idleTimeoutMs',
    flag: '--idle-timeout <ms>',
    env: 'CANVAS_IDLE_TIMEOUT_MS',
    description: 'close a room this long after its last session leaves',
    defaultText: '30000',
  },
  {
    key: 'saveThrottleMs',
    flag: '--save-throttle <ms>',
    env: 'CANVAS_SAVE_THROTTLE_MS',
    description: 'minimum time between whole-snapshot saves (memory storage)',
    defaultText: '10000',
  },
  {
    key: 'maxFrameBytes',
    flag: '--max-frame-bytes <n>',
    env: 'CANVAS_MAX_FRAME_BYTES',
    description: 'largest accepted frame (bytes)',
    defaultText: '2097152',
  },
  {
    key: 'maxKeysPerFrame',
    flag: '--max-keys-per-frame <n>',
    env: 'CANVAS_MAX_KEYS_PER_FRAME',
    description: 'most component keys in one frame',
    defaultText: '10000',
  },
  {
    key: 'maxDepth',
    flag: '--max-depth <n>',
    env: 'CANVAS_MAX_DEPTH',
    description: 'deepest nesting inside a field value',
    defaultText: '32',
  },
  {
    key: 'maxBufferLength',
    flag: '--max-buffer-length <n>',
    env: 'CANVAS_MAX_BUFFER_LENGTH',
    description: 'largest buffer-delta length',
    defaultText: '100000',
  },
  {
    key: 'framesPerSecond',
    flag: '--frames-per-second <n>',
    env: 'CANVAS_FRAMES_PER_SECOND',
    description: 'sustained frames per second per session (bursts of 3x)',
    defaultText: '100',
  },
  {
    key: 'bytesPerSecond',
    flag: '--bytes-per-second <n>',
    env: 'CANVAS_BYTES_PER_SECOND',
    description: 'sustained bytes per second per session (bursts of 4x)',
    defaultText: '4194304',
  },
  {
    key: 'maxSessionsPerRoom',
    flag: '--max-sessions-per-room <n>',
    env: 'CANVAS_MAX_SESSIONS_PER_ROOM',
    description: 'sessions one room holds at most',
    defaultText: '1000',
  },
  {
    key: 'maxRooms',
    flag: '--max-rooms <n>',
    env: 'CANVAS_MAX_ROOMS',
    description: 'rooms open at once in this process',
    defaultText: '10000',
  },
  {
    key: 'maxBufferedBytes',
    flag: '--max-buffered-bytes <n>',
    env: 'CANVAS_MAX_BUFFERED_BYTES',
    description: 'unsent bytes a client may have before it is dropped as too slow',
    defaultText: '8388608',
  },
  {
    key: 'heartbeatIntervalMs',
    flag: '--heartbeat-interval <ms>',
    env: 'CANVAS_HEARTBEAT_INTERVAL_MS',
    description: 'ping interval; a connection silent for two intervals is dropped',
    defaultText: '30000',
  },
  {
    key: 'shutdownTimeoutMs',
    flag: '--shutdown-timeout <ms>',
    env: 'CANVAS_SHUTDOWN_TIMEOUT_MS',
    description:
      'on SIGTERM/SIGINT, give up waiting for storage after this long and exit 1 naming the rooms not saved',
    defaultText: '30000',
  },
  {
    key: 'logLevel',
    flag: '--log-level <level>',
    env: 'LOG_LEVEL',
    description: 'fatal, error, warn, info, debug, trace or silent',
    defaultText: 'info',
  },
  {
    key: 'allowedOrigins',
    flag: '--allowed-origins <origins>',
    env: 'CANVAS_ALLOWED_ORIGINS',
    description: 'comma-separated Origin values allowed to connect (empty: any)',
    kind: 'list',
  },
  {
    key: 'auth',
    flag: '--auth <mode>',
    env: 'CANVAS_AUTH',
    description: 'none (development: every token accepted) or jwt',
    defaultText: 'jwt when a JWT key is given, else none',
  },
  {
    key: 'jwtSecret',
    flag: '--jwt-secret <secret>',
    env: 'CANVAS_JWT_SECRET',
    description: 'HS256 shared secret (32+ characters)',
  },
  {
    key: 'jwtPublicKey',
    flag: '--jwt-public-key <pem-or-file>',
    env: 'CANVAS_JWT_PUBLIC_KEY',
    description: 'RS256/ES256 public key: PEM text or a path to a PEM file',
  },
  {
    key: 'jwtJwksUrl',
    flag: '--jwt-jwks-url <url>',
    env: 'CANVAS_JWT_JWKS_URL',
    description: 'JWKS URL for RS256/ES256 keys',
  },
  {
    key: 'jwtIssuer',
    flag: '--jwt-issuer <iss>',
    env: 'CANVAS_JWT_ISSUER',
    description: 'required `iss` claim',
  },
  {
    key: 'jwtAudience',
    flag: '--jwt-audience <aud>',
    env: 'CANVAS_JWT_AUDIENCE',
    description: 'required `aud` claim',
  },
  {
    key: 'adminSecret',
    flag: '--admin-secret <secret>',
    env: 'CANVAS_ADMIN_SECRET',
    description: 'bearer secret of the admin API and inspector (16+ characters; unset: disabled)',
  },
  {
    key: 'serveClient',
    flag: '--no-serve-client',
    env: 'CANVAS_SERVE_CLIENT',
    description:
      'do not serve the demo whiteboard page at / (variable: true or false, also 1/0, yes/no, on/off)',
    kind: 'negatable',
  },
];
