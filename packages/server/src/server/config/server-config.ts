import { z } from 'zod';
import {
  DEFAULT_HISTORY_MAX_AGE_MS,
  DEFAULT_HISTORY_MAX_BYTES,
  DEFAULT_HISTORY_MAX_ENTRIES,
} from '../../storage/history.js';

/** Storage backends the server can run on. */
const STORAGE_KINDS = ['sqlite', 'file', 'memory', 'postgres'] as const;
/** Log levels, as pino names them. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();

/**
 * The validated configuration of the runnable server. Every field has a
 * default; see the configuration table of docs/operations.md for flags and variables.
 */
const serverConfigSchema = z
  .object({
    port: z.coerce.number().int().min(0).max(65_535).default(8080),
    /** Defaults to 127.0.0.1 with auth none (SPEC B10), 0.0.0.0 otherwise. */
    host: z.string().min(1).optional(),
    dataDir: z.string().min(1).default('./data'),
    storage: z.enum(STORAGE_KINDS).default('sqlite'),
    postgresUrl: z.string().url().optional(),
    postgresPoolSize: positiveInt.default(10),
    postgresQueryTimeoutMs: positiveInt.default(30_000),
    redisUrl: z
      .string()
      .url()
      .refine((url) => /^rediss?:\/\//.test(url), 'must be a redis:// or rediss:// URL')
      .optional(),
    /** Defaults to a generated id, unique per process. */
    nodeId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, dots, dashes or underscores')
      .optional(),
    clusterLeaseMs: z.coerce.number().int().min(300).max(600_000).default(3_000),
    idleTimeoutMs: nonNegativeInt.default(30_000),
    saveThrottleMs: nonNegativeInt.default(10_000),
    presenceTickMs: nonNegativeInt.default(50),
    presenceBytesPerSecond: positiveInt.default(256 * 1024),
    historyMaxAgeMs: nonNegativeInt.default(DEFAULT_HISTORY_MAX_AGE_MS),
    historyMaxEntries: nonNegativeInt.default(DEFAULT_HISTORY_MAX_ENTRIES),
    historyMaxBytes: nonNegativeInt.default(DEFAULT_HISTORY_MAX_BYTES),
    maxFrameBytes: positiveInt.default(2 * 1024 * 1024),
    maxKeysPerFrame: positiveInt.default(10_000),
    maxDepth: positiveInt.default(32),
    maxBufferLength: positiveInt.default(100_000),
    maxBufferEntriesPerFrame: positiveInt.default(1_000_000),
    maxRoomKeys: positiveInt.default(100_000),
    maxRoomBytes: positiveInt.default(32 * 1024 * 1024),
    maxEphemeralKeys: positiveInt.default(256),
    maxEphemeralBytes: positiveInt.default(64 * 1024),
    maxHeldBytes: positiveInt.default(8 * 1024 * 1024),
    framesPerSecond: positiveInt.default(100),
    bytesPerSecond: positiveInt.default(4 * 1024 * 1024),
    maxSessionsPerRoom: positiveInt.default(1_000),
    maxRooms: positiveInt.default(10_000),
    maxBufferedBytes: positiveInt.default(8 * 1024 * 1024),
    heartbeatIntervalMs: positiveInt.default(30_000),
    shutdownTimeoutMs: positiveInt.default(30_000),
    logLevel: z.enum(LOG_LEVELS).default('info'),
    allowedOrigins: z.array(z.string().min(1)).default([]),
    allowAnyOrigin: z.boolean().default(false),
    maxConnections: positiveInt.default(20_000),
    maxConnectionsPerAddress: positiveInt.default(200),
    maxRoomsPerAddress: positiveInt.default(100),
    maxConnectionsPerSubject: positiveInt.default(50),
    maxRoomsPerSubject: positiveInt.default(25),
    handshakeTimeoutMs: positiveInt.default(5_000),
    bindClientId: z.boolean().default(false),
    auth: z.enum(['none', 'jwt']).optional(),
    jwtSecret: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Read by `loadConfig` into `jwtSecret`. */
    jwtSecretFile: z.string().min(1).optional(),
    jwtPublicKey: z.string().min(1).optional(),
    jwtJwksUrl: z.string().url().optional(),
    jwtIssuer: z.string().min(1).optional(),
    jwtAudience: z.string().min(1).optional(),
    adminSecret: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Read by `loadConfig` into `adminSecret`. */
    adminSecretFile: z.string().min(1).optional(),
    adminFailuresPerMinute: positiveInt.default(10),
    maxImportBytes: positiveInt.default(256 * 1024 * 1024),
    serveClient: z.boolean().default(true),
  })
  .superRefine((config, ctx) => {
    if (config.redisUrl !== undefined && (config.storage !== 'postgres' || !config.postgresUrl)) {
      ctx.addIssue({
        code: 'custom',
        path: ['redisUrl'],
        message: 'cluster mode needs the shared database: give --storage postgres and --postgres-url too',
      });
    }
    if (config.storage === 'postgres' && !config.postgresUrl) {
      ctx.addIssue({ code: 'custom', path: ['postgresUrl'], message: 'is required with --storage postgres' });
    }
    const keySources = [config.jwtSecret, config.jwtPublicKey, config.jwtJwksUrl].filter(
      (v) => v !== undefined,
    );
    if (config.auth === 'jwt' && keySources.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth'],
        message: 'jwt needs a key: give --jwt-secret, --jwt-public-key or --jwt-jwks-url',
      });
    }
    if (keySources.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['jwtSecret'],
        message: 'only one JWT key source may be given: --jwt-secret, --jwt-public-key or --jwt-jwks-url',
      });
    }
    if (config.auth === 'none' && keySources.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth'],
        message: 'none was chosen but a JWT key was given: remove the key, or use --auth jwt',
      });
    }
  })
  .transform((config) => {
    // A configured key means JWT mode unless told otherwise.
    const auth =
      config.auth ??
      (config.jwtSecret || config.jwtPublicKey || config.jwtJwksUrl ? ('jwt' as const) : ('none' as const));
    // Development mode accepts every token: only this machine may reach it unless told otherwise.
    return { ...config, auth, host: config.host ?? (auth === 'none' ? '127.0.0.1' : '0.0.0.0') };
  });

/** The server's configuration after defaults and validation. */
export type ServerConfig = z.output<typeof serverConfigSchema>;
/** What may be given to build a configuration (strings from flags or variables are coerced). */
export type ServerConfigInput = z.input<typeof serverConfigSchema>;

/** A configuration value is missing or wrong; the message says which and why. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A validation problem as a person would say it: `must be a whole number above 0`. */
function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'must be a whole number' : `must be a ${issue.expected}`;
    case 'too_small':
      if (issue.origin !== 'number') return issue.message;
      return issue.inclusive ? `must be ${issue.minimum} or more` : `must be more than ${issue.minimum}`;
    case 'too_big':
      if (issue.origin !== 'number') return issue.message;
      return issue.inclusive ? `must be ${issue.maximum} or less` : `must be less than ${issue.maximum}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'url' ? 'must be a URL' : `must be a valid ${issue.format}`;
    default:
      return issue.message;
  }
}

/**
 * Validates a configuration, filling defaults; throws {@link ConfigError} naming every problem.
 *
 * @param nameOf - how to name a field in messages; the command passes the flag or
 *   variable the user set (`--idle-timeout`, `CANVAS_IDLE_TIMEOUT_MS`), since users
 *   never see the internal keys. Defaults to the key itself (library use).
 */
export function parseServerConfig(
  input: ServerConfigInput,
  nameOf: (key: string) => string = (key) => key,
): ServerConfig {
  const result = serverConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? nameOf(String(issue.path[0])) : 'configuration';
    return `${field}: ${describeIssue(issue)}`;
  });
  throw new ConfigError(problems.join('; '));
}
