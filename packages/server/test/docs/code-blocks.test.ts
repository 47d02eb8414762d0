/**
 * Every code block of README.md, packages/server/README.md and docs/*.md runs
 * (issue 12): TypeScript and JavaScript blocks are executed with tsx against a
 * real server process, shell blocks are checked (npm scripts exist, the
 * server's options parse through its own option parser, curl requests succeed
 * against the real server), JSON blocks parse, `text` blocks are skipped, and a
 * block marked `<!-- docs-test: not-run: reason -->` is not run, and its reason must be stated.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, loadConfigWith } from '../../src/server/config/load-config.js';
import { roomTransferOptions } from '../../src/server/room-transfer-command.js';
import { cleanup, readRoom, ServerProcess, tempDir } from '../harness/server-process.js';
import { blocksOf, type DocBlock, documentedFiles, ROOT, shellCommands } from './doc-blocks.js';

/** Values of the variables the docs use. */
const DOCS_ENV: Record<string, string> = {
  JWT_SECRET: 'a-docs-test-secret-of-at-least-32-characters',
  ADMIN_SECRET: 'docs-test-admin-secret',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/docs',
};
/** Where block files are written: inside the repository so they resolve its packages, and ignored by git. */
const BLOCK_DIR = join(ROOT, 'node_modules', '.cache', 'docs-blocks');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
/** A bound for a block that never finishes, not a timing assertion. */
const BLOCK_LIMIT_MS = 60_000;
const SCRIPTS = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;

let server: ServerProcess;

beforeAll(async () => {
  server = await ServerProcess.start({
    args: ['--storage', 'memory', '--admin-secret', DOCS_ENV.ADMIN_SECRET as string],
  });
  mkdirSync(BLOCK_DIR, { recursive: true });
});
afterAll(cleanup);

/** The docs talk about the default port; the blocks talk to the test's server. */
function pointedAtServer(text: string): string {
  return text.replaceAll('localhost:8080', `127.0.0.1:${server.port}`);
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += String(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += String(chunk);
    });
    const limit = setTimeout(() => {
      output += `\n(killed: still running after ${BLOCK_LIMIT_MS} ms)`;
      child.kill('SIGKILL');
    }, BLOCK_LIMIT_MS);
    child.on('close', (code) => {
      clearTimeout(limit);
      resolve({ code, output });
    });
  });
}

async function runScript(block: DocBlock): Promise<void> {
  const name = `${block.file.replaceAll('/', '_')}-${block.line}.mts`;
  const path = join(BLOCK_DIR, name);
  writeFileSync(path, pointedAtServer(block.code));
  try {
    const result = await run(process.execPath, ['--import', TSX, path], {
      cwd: tempDir('docs-block-'),
      env: { ...process.env, ...DOCS_ENV },
    });
    expect(result.code, `${block.file}:${block.line} failed:\n${result.output}`).toBe(0);
  } finally {
    rmSync(path, { force: true });
  }
}

/** Checks one command of a shell block; throws saying what is wrong. */
async function checkCommand(words: string[], where: string): Promise<void> {
  const env: Record<string, string> = {};
  while (words[0] && /^\w+=/.test(words[0])) {
    const [name, ...value] = (words.shift() as string).split('=');
    env[name as string] = value.join('=');
  }
  const [program, ...args] = words;
  if (program === 'npm') {
    const [verb, ...rest] = args;
    if (verb === 'install' || verb === 'ci') return;
    const script = verb === 'run' ? rest.shift() : verb;
    expect(SCRIPTS, `${where}: npm script ${script}`).toHaveProperty(script as string);
    if (rest.length === 0) return;
    // npm keeps options before `--` for itself (issue 12 item 3).
    expect(rest[0], `${where}: options of npm ${script} must follow --`).toBe('--');
    if (script === 'start') loadConfig(rest.slice(1), env);
    return;
  }
  if (program === 'npx' && args[0] === 'canvas-store-server') {
    if (!args.includes('--help')) loadConfig(args.slice(1), env);
    return;
  }
  if (program === 'canvas-store-server' && (args[0] === 'export' || args[0] === 'import')) {
    // The subcommands work on a stopped server's storage: their options are parsed, not run.
    const { values } = loadConfigWith(args.slice(1), env, roomTransferOptions(args[0]));
    expect(values.room, `${where}: ${args[0]} needs --room`).toEqual(expect.any(String));
    return;
  }
  if (program === 'canvas-store-server') {
    if (!args.includes('--help')) loadConfig(args, env);
    return;
  }
  if (program === 'curl') {
    const result = await new Promise<{ error: Error | null; stdout: string; stderr: string }>((resolve) =>
      execFile(
        'curl',
        ['--fail', '--silent', '--show-error', ...args.map(pointedAtServer)],
        (error, stdout, stderr) => resolve({ error, stdout, stderr }),
      ),
    );
    expect(result.error, `${where}: curl ${args.join(' ')}\n${result.stderr}`).toBeNull();
    JSON.parse(result.stdout);
    return;
  }
  throw new Error(
    `${where}: the docs test does not know how to check \`${words.join(' ')}\`; mark the block`,
  );
}

async function checkBlock(block: DocBlock): Promise<void> {
  const where = `${block.file}:${block.line}`;
  switch (block.lang) {
    case 'ts':
    case 'js':
      await runScript(block);
      return;
    case 'sh':
      for (const words of shellCommands(block.code, DOCS_ENV)) await checkCommand(words, where);
      return;
    case 'json':
      JSON.parse(block.code);
      return;
    case 'text':
      return;
    default:
      throw new Error(`${where}: a \`${block.lang || 'plain'}\` block; use ts, js, sh, json or text`);
  }
}

const FILES = documentedFiles().map((path) => [path.slice(ROOT.length + 1), blocksOf(path)] as const);

describe.each(FILES)('[docs] the code blocks of %s', (_file, blocks) => {
  const runnable = blocks.filter((block) => block.notRun === undefined);
  if (runnable.length === 0) {
    it('[docs] has no block to run', () => {
      expect(blocks.every((block) => block.notRun)).toBe(true);
    });
  }
  it.each(runnable.map((block) => [`${block.lang} block at line ${block.line}`, block] as const))(
    '[docs] %s runs',
    async (_name, block) => {
      await checkBlock(block);
    },
    BLOCK_LIMIT_MS * 2,
  );
  // Blocks that cannot run here (Bun, Deno, a long-running example) must say why in their marker.
  for (const block of blocks.filter((b) => b.notRun !== undefined)) {
    it(`[docs] ${block.lang} block at line ${block.line} is not run, with a stated reason`, () => {
      expect(block.notRun?.trim().length ?? 0).toBeGreaterThan(10);
    });
  }
});

describe('[docs] what the README tour does', () => {
  it(
    '[docs][D7] the README tour leaves the note the published client wrote in my-room',
    async () => {
      const tour = blocksOf(join(ROOT, 'README.md')).find((block) => block.code.includes('WebsocketAdapter'));
      expect(tour, 'the README has a WebsocketAdapter block').toBeDefined();
      await runScript(tour as DocBlock);
      expect(await readRoom(server, 'my-room')).toMatchObject({
        'note-1/Note': { _exists: true, text: 'hi' },
      });
    },
    BLOCK_LIMIT_MS * 2,
  );
});
