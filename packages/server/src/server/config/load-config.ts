import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { OPTION_SPECS, type OptionSpec } from './option-specs.js';
import {
  ConfigError,
  parseServerConfig,
  type ServerConfig,
  type ServerConfigInput,
} from './server-config.js';

function buildCommand(extra: readonly Option[] = [], name = 'canvas-store-server'): Command {
  const command = new Command(name)
    .description('Real-time collaboration server for canvas and whiteboard applications')
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .allowExcessArguments(false);
  for (const spec of OPTION_SPECS) {
    // commander prints defaults only for options it fills itself; ours come from the schema.
    const extraText = spec.defaultText ? `default ${spec.defaultText}; env ${spec.env}` : `env ${spec.env}`;
    command.addOption(new Option(spec.flag, `${spec.description} (${extraText})`));
  }
  for (const option of extra) command.addOption(option);
  return command;
}

/** The flag as typed, without its value placeholder: `--idle-timeout`. */
export function flagName(spec: OptionSpec): string {
  return spec.flag.split(' ')[0] ?? spec.flag;
}

function parseBooleanEnv(name: string, value: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name}: expected true or false, got ${JSON.stringify(value)}`);
}

/** Reads a PEM given inline or as a file path. */
function readKey(value: string, name: string): string {
  if (value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (error) {
    throw new ConfigError(`${name}: cannot read the key file ${value}: ${(error as Error).message}`);
  }
}

/**
 * Moves a secret given as a file path into its option (SPEC B10: secrets need
 * not appear on the command line, where `ps` shows them).
 */
function readSecretFile(
  input: Record<string, unknown>,
  fileKey: string,
  key: string,
  nameOf: (key: string) => string,
  source: Map<string, string>,
): void {
  const path = input[fileKey];
  if (typeof path !== 'string') return;
  if (input[key] !== undefined) {
    throw new ConfigError(`${nameOf(fileKey)}: give either ${nameOf(key)} or its file, not both`);
  }
  try {
    input[key] = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    // A bad secret in the file is reported as the file's, the option the user set.
    source.set(key, `the file ${path} (${nameOf(fileKey)})`);
  } catch (error) {
    throw new ConfigError(`${nameOf(fileKey)}: cannot read ${path}: ${(error as Error).message}`);
  }
  delete input[fileKey];
}

/** The text of `--help`; with `extra`, of a subcommand that also takes those options. */
export function helpText(extra: readonly Option[] = [], name?: string): string {
  return buildCommand(extra, name).helpInformation();
}

/**
 * Builds the configuration from command-line flags and environment variables
 * (a flag wins over its variable; unset ones take defaults).
 *
 * @throws {@link ConfigError} naming what is wrong.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ServerConfig {
  return loadConfigWith(argv, env, []).config;
}

/**
 * {@link loadConfig} for a subcommand: accepts the server's options plus
 * `extra`, whose parsed values (by commander attribute name) come back as `values`.
 *
 * @throws {@link ConfigError} naming what is wrong.
 */
export function loadConfigWith(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  extra: readonly Option[],
): { config: ServerConfig; values: Record<string, unknown> } {
  const command = buildCommand(extra);
  try {
    command.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError && error.code === 'commander.excessArguments') {
      const stray = command.args.map((arg) => JSON.stringify(arg)).join(', ');
      throw new ConfigError(`unexpected argument ${stray}: every option is a flag, such as --port 9000`);
    }
    if (error instanceof CommanderError) throw new ConfigError(error.message.replace(/^error: /, ''));
    throw error;
  }
  const flags = command.opts<Record<string, unknown>>();
  const input: Record<string, unknown> = {};
  // Where each value came from, so a message names what the user typed, not our internal key.
  const source = new Map<string, string>();
  for (const spec of OPTION_SPECS) {
    // commander names a flag's value after the flag (`--idle-timeout` -> idleTimeout), not after our key.
    const fromFlag = flags[new Option(spec.flag).attributeName()];
    const fromEnv = env[spec.env];
    if (spec.kind === 'switch') {
      if (fromFlag === true) input[spec.key] = true;
      else if (fromEnv !== undefined && fromEnv !== '') input[spec.key] = parseBooleanEnv(spec.env, fromEnv);
      continue;
    }
    if (spec.kind === 'negatable') {
      // commander sets a negatable flag to true unless --no-… was given.
      if (fromFlag === false) input[spec.key] = false;
      else if (fromEnv !== undefined && fromEnv !== '') input[spec.key] = parseBooleanEnv(spec.env, fromEnv);
      continue;
    }
    const value = fromFlag ?? (fromEnv === '' ? undefined : fromEnv);
    if (value === undefined) continue;
    source.set(spec.key, fromFlag !== undefined ? flagName(spec) : spec.env);
    input[spec.key] =
      spec.kind === 'list'
        ? String(value)
            .split(',')
            .map((part) => part.trim())
            .filter((part) => part !== '')
        : value;
  }
  const nameOf = (key: string): string => {
    const given = source.get(key);
    if (given) return given;
    const spec = OPTION_SPECS.find((s) => s.key === key);
    return spec ? `${flagName(spec)} (or ${spec.env})` : key;
  };
  if (typeof input.jwtPublicKey === 'string') {
    input.jwtPublicKey = readKey(input.jwtPublicKey, nameOf('jwtPublicKey'));
  }
  readSecretFile(input, 'jwtSecretFile', 'jwtSecret', nameOf, source);
  readSecretFile(input, 'adminSecretFile', 'adminSecret', nameOf, source);
  const values: Record<string, unknown> = {};
  for (const option of extra) values[option.attributeName()] = flags[option.attributeName()];
  return { config: parseServerConfig(input as ServerConfigInput, nameOf), values };
}
