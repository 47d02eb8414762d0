import { flagName } from '../config/load-config.js';
import { OPTION_SPECS } from '../config/option-specs.js';

/**
 * `npm start --port 9000` gives `--port` to npm, not to the server: npm sets
 * `npm_config_port=true` and passes only `9000` along, so the server saw a
 * stray argument and said "too many arguments". This finds such flags and
 * returns the sentence that says how to pass them, or undefined.
 *
 * @param argv - the arguments the server received
 * @param env - the environment npm ran it in
 */
export function npmSwallowedFlagsHint(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  if (!env.npm_lifecycle_event) return undefined;
  const swallowed = OPTION_SPECS.map(flagName).filter((flag) => {
    const npmKey = `npm_config_${flag.replace(/^--/, '').replaceAll('-', '_')}`;
    return env[npmKey] !== undefined;
  });
  if (swallowed.length === 0) return undefined;
  // npm keeps the values that followed its flags as plain arguments, in order.
  const values = argv.filter((arg) => !arg.startsWith('-'));
  const example = swallowed.map((flag, i) => (values[i] ? `${flag} ${values[i]}` : flag)).join(' ');
  const script = env.npm_lifecycle_event === 'start' ? 'npm start' : `npm run ${env.npm_lifecycle_event}`;
  return `npm kept ${swallowed.join(', ')} for itself, so the server never saw ${swallowed.length > 1 ? 'them' : 'it'}: put the server's options after \`--\`, as in \`${script} -- ${example}\``;
}
