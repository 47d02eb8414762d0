/**
 * Summarises a V8 `.cpuprofile` (written by `node --cpu-prof`) of our server:
 * self and inclusive time per function and self time per file, with
 * locations in the package's compiled `dist/` mapped back to `src/` through
 * the build's source maps.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Time attributed to one function or file, in ms of CPU samples. */
interface ProfileEntry {
  name: string;
  /** `src/room/room.ts:412`, `ws/lib/sender.js`, `node:net` … */
  location: string;
  selfMs: number;
  /** Including everything it called (recursion counted once). */
  totalMs: number;
}

export interface ProfileSummary {
  /** True when only the samples of the requested window were counted. */
  windowed: boolean;
  /** Sampled wall time, ms. */
  durationMs: number;
  /** Samples on the JS thread outside idle, ms. */
  busyMs: number;
  idleMs: number;
  gcMs: number;
  /** Self time spent in functions of our package (src/), ms. */
  oursMs: number;
  topSelf: ProfileEntry[];
  /** Functions of our package (src/) by inclusive time. */
  topOursInclusive: ProfileEntry[];
  /** Self time per file or module. */
  byFile: Array<{ location: string; selfMs: number }>;
}

const PSEUDO_FRAMES = new Set(['(garbage collector)', '(program)']);

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const sourceMaps = new Map<string, SourceMap | null>();

function sourceMapFor(path: string): SourceMap | null {
  let map = sourceMaps.get(path);
  if (map !== undefined) return map;
  map = null;
  const mapPath = `${path}.map`;
  if (existsSync(mapPath)) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(mapPath, 'utf8')) as SourceMapPayload);
    } catch {
      map = null;
    }
  }
  sourceMaps.set(path, map);
  return map;
}

/** A readable location: src/… for our package (via source maps), the module path for dependencies. */
function locate(frame: CallFrame): { file: string; location: string; ours: boolean } {
  const { url } = frame;
  if (url === '') return { file: '(native)', location: '(native)', ours: false };
  if (url.startsWith('node:')) return { file: url, location: url, ours: false };
  let path = url;
  if (url.startsWith('file://')) {
    try {
      path = fileURLToPath(url);
    } catch {
      path = url;
    }
  }
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const file = path.slice(modules + '/node_modules/'.length);
    return { file, location: `${file}:${frame.lineNumber + 1}`, ours: false };
  }
  const rel = relative(PACKAGE_ROOT, path);
  if (rel.startsWith('dist/')) {
    const map = sourceMapFor(path);
    const entry = map?.findEntry(frame.lineNumber, frame.columnNumber) as
      | { originalSource?: string; originalLine?: number }
      | undefined;
    if (entry?.originalSource !== undefined && entry.originalLine !== undefined) {
      // `sources` of the map are relative to the compiled file's directory.
      const source = entry.originalSource.startsWith('file://')
        ? fileURLToPath(entry.originalSource)
        : resolve(dirname(path), entry.originalSource);
      const srcRel = relative(PACKAGE_ROOT, source);
      return { file: srcRel, location: `${srcRel}:${entry.originalLine + 1}`, ours: true };
    }
    return { file: rel, location: `${rel}:${frame.lineNumber + 1}`, ours: true };
  }
  return { file: rel, location: `${rel}:${frame.lineNumber + 1}`, ours: false };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Options of {@link summarizeProfile}. */
interface SummarizeOptions {
  /** Entries per list. */
  top?: number;
  /**
   * Only samples inside this interval of the monotonic clock, in µs (V8's
   * profile timestamps and `process.hrtime()` both read CLOCK_MONOTONIC on Linux).
   */
  window?: { fromUs: number; toUs: number };
}

/** Reads and summarises one `.cpuprofile`. */
export function summarizeProfile(path: string, options: SummarizeOptions = {}): ProfileSummary {
  const top = options.top ?? 25;
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  let window = options.window;
  // A window the profile does not cover (another clock) falls back to the whole profile.
  if (window && (window.fromUs >= profile.endTime || window.toUs <= profile.startTime)) window = undefined;
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  let firstUs = Number.POSITIVE_INFINITY;
  let lastUs = Number.NEGATIVE_INFINITY;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (window && (at < window.fromUs || at > window.toUs)) return;
    firstUs = Math.min(firstUs, at - delta);
    lastUs = Math.max(lastUs, at);
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });

  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  let idleUs = 0;
  let gcUs = 0;
  let oursUs = 0;
  const selfByKey = new Map<string, ProfileEntry & { selfUs: number; totalUs: number; ours: boolean }>();
  const selfByFile = new Map<string, number>();
  const keyOf = new Map<number, string>();
  for (const node of profile.nodes) {
    const frame = node.callFrame;
    const place = locate(frame);
    const name = frame.functionName || '(anonymous)';
    const key = `${name} ${place.location}`;
    keyOf.set(node.id, key);
    let entry = selfByKey.get(key);
    if (!entry) {
      entry = {
        name,
        location: place.location,
        selfMs: 0,
        totalMs: 0,
        selfUs: 0,
        totalUs: 0,
        ours: place.ours,
      };
      selfByKey.set(key, entry);
    }
    const self = selfUs.get(node.id) ?? 0;
    entry.selfUs += self;
    if (name === '(idle)') idleUs += self;
    else if (name === '(garbage collector)') gcUs += self;
    if (place.ours) oursUs += self;
    if (name !== '(idle)' && name !== '(root)') {
      // V8's pseudo-frames ((garbage collector), (program)) have no URL; neither do native functions.
      const file = frame.url === '' && PSEUDO_FRAMES.has(name) ? name : place.file;
      selfByFile.set(file, (selfByFile.get(file) ?? 0) + self);
    }
  }
  // Inclusive time: each sample counts once for every distinct function on its stack.
  for (const [id, self] of selfUs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = keyOf.get(at) as string;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = selfByKey.get(key);
      if (entry) entry.totalUs += self;
    }
  }
  const entries = [...selfByKey.values()].map((entry) => ({
    ...entry,
    selfMs: round(entry.selfUs / 1000),
    totalMs: round(entry.totalUs / 1000),
  }));
  const strip = ({ name, location, selfMs, totalMs }: ProfileEntry): ProfileEntry => ({
    name,
    location,
    selfMs,
    totalMs,
  });
  const durationUs = lastUs > firstUs ? lastUs - firstUs : 0;
  return {
    windowed: window !== undefined,
    durationMs: round(durationUs / 1000),
    busyMs: round((durationUs - idleUs) / 1000),
    idleMs: round(idleUs / 1000),
    gcMs: round(gcUs / 1000),
    oursMs: round(oursUs / 1000),
    topSelf: entries
      .filter((entry) => entry.name !== '(idle)' && entry.name !== '(root)')
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map(strip),
    topOursInclusive: entries
      .filter((entry) => entry.ours)
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, top)
      .map(strip),
    byFile: [...selfByFile.entries()]
      .map(([location, us]) => ({ location, selfMs: round(us / 1000) }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top),
  };
}
