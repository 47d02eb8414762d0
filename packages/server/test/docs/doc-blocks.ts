/**
 * Finds the fenced code blocks of the docs, with the marker that says how the
 * docs test treats each:
 *
 * - no marker: run it (`ts`/`js`), check it (`sh`, `json`), or skip it (`text`);
 * - `<!-- docs-test: not-run: <reason> -->` on a line before the fence (a reason
 *   is required): not run, for blocks that need what this repository does not
 *   have (another runtime) or that another test runs in full.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The repository root. */
export const ROOT = join(import.meta.dirname, '..', '..', '..', '..');

/** One fenced block of a Markdown file. */
export interface DocBlock {
  /** Path from the repository root, e.g. `docs/library.md`. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  /** The reason given by a `not-run` marker, if any. */
  notRun?: string;
}

const MARKER = /^<!-- docs-test: (.*?) -->$/;

/** Every Markdown page whose code blocks must run: the README, docs/ and the server package's README. */
export function documentedFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(ROOT, 'docs', name));
  return [join(ROOT, 'README.md'), join(ROOT, 'packages', 'server', 'README.md'), ...docs.sort()];
}

/** The fenced blocks of one file. */
export function blocksOf(path: string): DocBlock[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const file = relative(ROOT, path);
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i] as string);
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`${file}:${i + 1}: the code block never closes`);
    const block: DocBlock = {
      file,
      line: i + 1,
      lang: open[1] ?? '',
      code: `${lines.slice(i + 1, end).join('\n')}\n`,
    };
    // The marker sits on one of the lines just above the fence (other comments may sit between).
    for (let j = i - 1; j >= 0 && (lines[j] as string).startsWith('<!--'); j--) {
      const marker = MARKER.exec(lines[j] as string);
      if (!marker) continue;
      const notRun = /^not-run: (\S.*)$/.exec(marker[1] as string);
      if (!notRun) throw new Error(`${file}:${j + 1}: unknown docs-test marker "${marker[1]}"`);
      block.notRun = notRun[1];
    }
    blocks.push(block);
    i = end;
  }
  return blocks;
}

/**
 * Splits a shell block into commands: joins `\` continuations, drops comments
 * after `#`, splits on `&&`, and splits each command into words (single and
 * double quotes, `$NAME` expanded from `env`).
 */
export function shellCommands(code: string, env: Record<string, string>): string[][] {
  const joined = code.replace(/\\\n\s*/g, ' ');
  const commands: string[][] = [];
  for (const rawLine of joined.split('\n')) {
    const line = rawLine.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    for (const part of line.split('&&')) commands.push(words(part.trim(), env));
  }
  return commands;
}

function words(command: string, env: Record<string, string>): string[] {
  const result: string[] = [];
  const pattern = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const match of command.matchAll(pattern)) {
    if (match[1] !== undefined) result.push(match[1]);
    else result.push(expand(match[2] ?? match[3] ?? '', env));
  }
  return result;
}

function expand(word: string, env: Record<string, string>): string {
  return word.replace(/\$(\w+)|\$\{(\w+)\}/g, (_, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b) as string;
    const value = env[name];
    if (value === undefined) throw new Error(`the docs use $${name}; give the docs test a value for it`);
    return value;
  });
}
