import type { ServerConfigInput } from './server-config.js';

/** One configuration option: its flag, its environment variable and what it does. */
export interface OptionSpec {
  key: keyof ServerConfigInput;
  flag: string;
  env: string;
  description: string;
  /** Shown in help; the real default lives in the schema. */
  defaultText?: string;
  /** `switch`: a flag without a value that turns something on (its variable takes true/false). */
  kind?: 'value' | 'list' | 'negatable' | 'switch';
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
    defaultText: '0.0.0.0; 127.0.0.1 with auth none',
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
    key: 'redisUrl',
    flag: '--redis-url <url>',
    env: 'CANVAS_REDIS_URL',
    description:
      'cluster mode: nodes sharing this Redis and the PostgreSQL database serve any room (needs --storage postgres)',
  },
  {
    key: 'nodeId',
    flag: '--node-id <id>',
    env: 'CANVAS_NODE_ID',
    description: 'this node name in the cluster (letters, digits, . _ -)',
    defaultText: 'generated per process',
  },
  {
    key: 'clusterLeaseMs',
    flag: '--cluster-lease-ms <ms>',
    env: 'CANVAS_CLUSTER_LEASE_MS',
    description:
      'lease of memberships and room ownership, renewed every third; a dead node loses its rooms within two',
    defaultText: '3000',
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
    key: 'maxBufferEntriesPerFrame',
    flag: '--max-buffer-entries-per-frame <n>',
    env: 'CANVAS_MAX_BUFFER_ENTRIES_PER_FRAME',
    description: 'buffer entries one frame may materialise (sum of its buffer-delta lengths)',
    defaultText: '1000000',
  },
  {
    key: 'maxRoomKeys',
    flag: '--max-room-keys <n>',
    env: 'CANVAS_MAX_ROOM_KEYS',
    description: 'document keys per room, tombstones included',
    defaultText: '100000',
  },
  {
    key: 'maxRoomBytes',
    flag: '--max-room-bytes <n>',
    env: 'CANVAS_MAX_ROOM_BYTES',
    description: 'stored document bytes per room, tombstones included',
    defaultText: '33554432',
  },
  {
    key: 'maxEphemeralKeys',
    flag: '--max-ephemeral-keys <n>',
    env: 'CANVAS_MAX_EPHEMERAL_KEYS',
    description: 'ephemeral (presence) keys per client in a room',
    defaultText: '256',
  },
  {
    key: 'maxEphemeralBytes',
    flag: '--max-ephemeral-bytes <n>',
    env: 'CANVAS_MAX_EPHEMERAL_BYTES',
    description: 'ephemeral (presence) bytes per client in a room',
    defaultText: '65536',
  },
  {
    key: 'maxHeldBytes',
    flag: '--max-held-bytes <n>',
    env: 'CANVAS_MAX_HELD_BYTES',
    description: 'bytes of frames held for a session while its auth-refresh is checked',
    defaultText: '8388608',
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
    description:
      'comma-separated Origin values allowed to connect (empty: any with JWT auth, same-origin only with auth none)',
    kind: 'list',
  },
  {
    key: 'allowAnyOrigin',
    flag: '--allow-any-origin',
    env: 'CANVAS_ALLOW_ANY_ORIGIN',
    description: 'with auth none, let pages of any origin connect (default: same-origin browsers only)',
    kind: 'switch',
  },
  {
    key: 'maxConnections',
    flag: '--max-connections <n>',
    env: 'CANVAS_MAX_CONNECTIONS',
    description: 'TCP connections open at once in this process (more get HTTP 429)',
    defaultText: '20000',
  },
  {
    key: 'maxConnectionsPerAddress',
    flag: '--max-connections-per-address <n>',
    env: 'CANVAS_MAX_CONNECTIONS_PER_ADDRESS',
    description: 'TCP connections open at once from one remote address (more get HTTP 429)',
    defaultText: '200',
  },
  {
    key: 'maxRoomsPerAddress',
    flag: '--max-rooms-per-address <n>',
    env: 'CANVAS_MAX_ROOMS_PER_ADDRESS',
    description: 'distinct rooms one remote address has sessions in (more get HTTP 429)',
    defaultText: '100',
  },
  {
    key: 'maxConnectionsPerSubject',
    flag: '--max-connections-per-subject <n>',
    env: 'CANVAS_MAX_CONNECTIONS_PER_SUBJECT',
    description: 'sessions open at once for one token subject (`sub`); more are closed with 4439',
    defaultText: '50',
  },
  {
    key: 'maxRoomsPerSubject',
    flag: '--max-rooms-per-subject <n>',
    env: 'CANVAS_MAX_ROOMS_PER_SUBJECT',
    description: 'distinct rooms one token subject has sessions in; more are closed with 4439',
    defaultText: '25',
  },
  {
    key: 'handshakeTimeoutMs',
    flag: '--handshake-timeout <ms>',
    env: 'CANVAS_HANDSHAKE_TIMEOUT_MS',
    description: 'drop a connection that has not finished its upgrade and authorization in this time (4408)',
    defaultText: '5000',
  },
  {
    key: 'bindClientId',
    flag: '--bind-client-id',
    env: 'CANVAS_BIND_CLIENT_ID',
    description: 'a clientId must be the token subject or start with `<sub>:` (else 4403)',
    kind: 'switch',
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
    description: 'HS256 shared secret (32+ characters); prefer the variable or the file over the flag',
  },
  {
    key: 'jwtSecretFile',
    flag: '--jwt-secret-file <path>',
    env: 'CANVAS_JWT_SECRET_FILE',
    description: 'read the HS256 secret from this file (one trailing newline ignored)',
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
    key: 'adminSecretFile',
    flag: '--admin-secret-file <path>',
    env: 'CANVAS_ADMIN_SECRET_FILE',
    description: 'read the admin secret from this file (one trailing newline ignored)',
  },
  {
    key: 'adminFailuresPerMinute',
    flag: '--admin-failures-per-minute <n>',
    env: 'CANVAS_ADMIN_FAILURES_PER_MINUTE',
    description: 'wrong admin secrets one address may send per minute; then HTTP 429 with Retry-After',
    defaultText: '10',
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
