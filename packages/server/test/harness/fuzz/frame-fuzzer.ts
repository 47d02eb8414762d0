/**
 * Seeded frame generators for the process fuzz suite (fuzz-process.test.ts):
 * random JSON of every shape, random strings and bytes, syntactically broken
 * JSON, tree mutations of valid frames, targeted invalid frames whose error
 * code is known, the hostile-input catalogue, and valid-but-odd frames that
 * really change the fuzzed room. {@link planSession} turns `(seed, index)` into
 * one fuzz session's script, so any failing session can be replayed from its
 * seed and index alone.
 *
 * Every frame carries what the generator knows about it: `valid` (the server
 * must accept it; `ackId` when it must be acked), `invalid` (it must be
 * answered by an `error` frame, with `expectedCode` when that is certain) or
 * `unknown` (a blind mutation: either outcome is fine, but it may cost an
 * invalid-frame credit).
 */
import { seededRandom } from '../../helpers/seeded-random.js';
import { Dice, type FuzzFrame } from './fuzz-basics.js';
import { hostileFrame } from './invalid-frames.js';
import { LATEST, oddValid, valid, validFrame } from './valid-frames.js';

/**
 * How a session ends. `marker`: an acked end-marker write, then a normal close.
 * The others send the marker too, then provoke a documented close:
 * `invalid-flood` (4406), `oversized` (1009), `bad-utf8` (1007),
 * `raw-garbage` (WebSocket protocol error, 1002), `rate-flood` and
 * `byte-flood` (4429). `vanish` pipelines its frames and drops the TCP
 * connection without waiting for anything.
 */
type Ending =
  | 'marker'
  | 'invalid-flood'
  | 'oversized'
  | 'bad-utf8'
  | 'raw-garbage'
  | 'rate-flood'
  | 'byte-flood'
  | 'vanish';

/** The close code each provoking ending must get (what the client observes). */
export const EXPECTED_CLOSE: Record<Exclude<Ending, 'marker' | 'vanish'>, readonly number[]> = {
  'invalid-flood': [4406],
  oversized: [1009],
  'bad-utf8': [1007],
  'raw-garbage': [1002],
  'rate-flood': [4429],
  'byte-flood': [4429],
};

/** One fuzz session's script. */
export interface SessionPlan {
  index: number;
  roomId: string;
  clientId: string;
  /** Wait for the session to be ready (its `clientCount`) before sending; otherwise frames queue before ready (C3). */
  waitReady: boolean;
  frames: FuzzFrame[];
  ending: Ending;
  /** Raw bytes written on the TCP socket for `raw-garbage` (first byte sets RSV2: always a protocol error). */
  garbage: Buffer;
}

/** At most this many frames per session may be invalid: the server's default `maxInvalidFramesPerMinute`. */
const INVALID_CREDITS = 10;

/**
 * The script of session `index` under `seed`: up to {@link INVALID_CREDITS}
 * hostile frames mixed into valid ones (so a session that ends with its marker
 * must never be closed), in one of the fuzzed rooms or, now and then, a fresh one.
 */
export function planSession(seed: number, index: number, fuzzedRooms: readonly string[]): SessionPlan {
  const d = new Dice(seededRandom((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0));
  let next = 0;
  const id = () => `s${index}-m${next++}`;
  const roomId = d.chance(0.04) ? `fuzz-fresh-${index}` : d.pick(fuzzedRooms);
  const frames: FuzzFrame[] = [];
  // The published client's first frame: sometimes a proper reconnect, sometimes nothing or a strange one.
  const opening = d.int(0, 5);
  if (opening <= 2)
    frames.push(valid('reconnect', { type: 'reconnect', lastTimestamp: LATEST, protocolVersion: 2 }));
  else if (opening === 3) frames.push(oddValid(d, id));
  let credits = INVALID_CREDITS;
  let bytes = 0;
  for (let n = d.int(8, 60); n > 0; n--) {
    const frame = credits > 0 && d.chance(0.35) ? hostileFrame(d, id) : validFrame(d, id);
    const size = typeof frame.data === 'string' ? Buffer.byteLength(frame.data) : frame.data.length;
    // Keep under the 8 MiB a not-yet-ready connection may hold, and the 16 MiB byte burst.
    if (bytes + size > 6 * 1024 * 1024) continue;
    bytes += size;
    if (frame.validity !== 'valid') credits--;
    frames.push(frame);
  }
  const ending = d.weighted<Ending>([
    [80, 'marker'],
    [5, 'invalid-flood'],
    [1.5, 'oversized'],
    [3, 'bad-utf8'],
    [3, 'raw-garbage'],
    [1.5, 'rate-flood'],
    [0.3, 'byte-flood'],
    [5, 'vanish'],
  ]);
  const garbage = Buffer.alloc(d.int(2, 64));
  for (let i = 0; i < garbage.length; i++) garbage[i] = d.int(0, 255);
  garbage[0] = ((garbage[0] as number) | 0x20) & 0xef; // RSV2 set: "RSV2 and RSV3 must be clear"
  return {
    index,
    roomId,
    clientId: d.chance(0.1)
      ? d.pick(['fuzzer', 'toString', '__proto__', 'constructor', '🎨'])
      : `fuzzer-${index}`,
    waitReady: ending === 'rate-flood' || ending === 'byte-flood' || d.chance(0.5),
    frames,
    ending,
    garbage,
  };
}
