/**
 * One change of a presence tick as JSON text: its part in the first patch
 * and, after a deletion, its new component in a second patch.
 */
export interface Fragment<R> {
  /** The one recipient that wrote it this tick (left out for it, SPEC A3); null or 'many' when none or several did. */
  readonly author: R | null | 'many';
  /** When it last changed: left out for a recipient that joined at or after it (its snapshot had it). */
  readonly seq: number;
  readonly first: string | null;
  readonly second: string | null;
}

/** What one fan-out sent, for the byte budget and the metrics. */
export interface FanOutResult {
  /** Characters sent, summed over recipients. */
  sentBytes: number;
  /** Characters of the largest frame one recipient got. */
  largest: number;
}

/** The start of every coalesced presence frame (SPEC R1). */
export const PATCH_HEAD = '{"type":"patch","clientId":"","ephemeralPatches":[';

/**
 * The frame for one recipient, assembled on its own: every fragment not
 * written by `recipient` alone and changed after `joinedAt` (the recipient's
 * join, -1 for older sessions); null when none is left. This is the
 * definition {@link fanOut} must match for every recipient.
 */
export function recipientFrame<R>(
  fragments: readonly Fragment<R>[],
  recipient: R | null,
  joinedAt: number,
): string | null {
  const first: string[] = [];
  const second: string[] = [];
  for (const fragment of fragments) {
    if (recipient !== null && fragment.author === recipient) continue;
    if (fragment.seq <= joinedAt) continue;
    if (fragment.first) first.push(fragment.first);
    if (fragment.second) second.push(fragment.second);
  }
  return assemble(first, second);
}

function assemble(first: readonly string[], second: readonly string[]): string | null {
  if (first.length === 0 && second.length === 0) return null;
  const patches = second.length > 0 ? `{${first.join(',')}},{${second.join(',')}}` : `{${first.join(',')}}`;
  return `${PATCH_HEAD}${patches}]}`;
}

/** Where one list (the first or the second patch) of a shared frame has each fragment's text. */
interface ListOffsets {
  /** Start and end offsets of fragment i's text in the shared frame (2i, 2i+1); -1 when it has none in this list. */
  readonly at: Int32Array;
  /** next[i]: the first index >= i with a text in this list, or the fragment count. */
  readonly next: Int32Array;
  /** prev[i]: the last index < i with a text in this list, or -1. */
  readonly prev: Int32Array;
}

/**
 * The frame most recipients get, with where each fragment's texts sit in it,
 * so that a frame without a few fragments is cut out of it (a few slices)
 * instead of assembled again from every fragment.
 */
class SharedFrame<R> {
  readonly text: string | null;
  private readonly first: ListOffsets;
  private readonly second: ListOffsets;

  constructor(private readonly fragments: readonly Fragment<R>[]) {
    const parts: string[] = [PATCH_HEAD, '{'];
    let at = PATCH_HEAD.length + 1;
    const first = this.place(parts, at, 'first');
    this.first = first.offsets;
    at = first.end;
    const hasSecond = fragments.some((fragment) => fragment.second);
    if (hasSecond) parts.push('},{');
    const second = this.place(parts, at + 3, 'second');
    this.second = second.offsets;
    parts.push('}]}');
    // No text at all: nothing to send, as recipientFrame says for every recipient.
    this.text = first.count === 0 && second.count === 0 ? null : parts.join('');
  }

  /** Appends one list's texts, comma-separated, noting their offsets. */
  private place(
    parts: string[],
    start: number,
    part: 'first' | 'second',
  ): { offsets: ListOffsets; end: number; count: number } {
    const size = this.fragments.length;
    const offsets: ListOffsets = {
      at: new Int32Array(size * 2).fill(-1),
      next: new Int32Array(size + 1).fill(size),
      prev: new Int32Array(size + 1).fill(-1),
    };
    let at = start;
    let count = 0;
    for (let index = 0; index < size; index++) {
      offsets.prev[index + 1] = offsets.prev[index] as number;
      const text = (this.fragments[index] as Fragment<R>)[part];
      if (!text) continue;
      if (count > 0) {
        parts.push(',');
        at++;
      }
      count++;
      parts.push(text);
      offsets.at[index * 2] = at;
      at += text.length;
      offsets.at[index * 2 + 1] = at;
      offsets.prev[index + 1] = index;
    }
    for (let index = size - 1; index >= 0; index--) {
      offsets.next[index] =
        (offsets.at[index * 2] as number) === -1 ? (offsets.next[index + 1] as number) : index;
    }
    return { offsets, end: at, count };
  }

  /**
   * The shared frame without the fragments at `left` (ascending indices), from
   * O(left) slices of it. Equals {@link recipientFrame} for a recipient whose
   * own fragments are exactly `left`.
   */
  without(left: readonly number[]): string | null {
    if (this.text === null) return null;
    return assemble(this.keptRuns(left, this.first), this.keptRuns(left, this.second));
  }

  /**
   * The texts of one list outside `left`, as runs: each run of consecutive
   * kept texts is one slice of the shared frame (its commas included), so
   * the runs joined by commas are the list without the texts at `left`.
   */
  private keptRuns(left: readonly number[], list: ListOffsets): string[] {
    const text = this.text as string;
    const runs: string[] = [];
    let from = 0;
    for (let i = 0; i <= left.length; i++) {
      const to = i < left.length ? (left[i] as number) : this.fragments.length;
      // The kept range [from, to): its first and last fragments with a text in this list.
      const first = list.next[from] as number;
      const last = list.prev[to] as number;
      if (first < to && last >= from) {
        runs.push(text.slice(list.at[first * 2] as number, list.at[last * 2 + 1] as number));
      }
      from = to + 1;
    }
    return runs;
  }
}

/**
 * Sends one tick's coalesced presence to every recipient (SPEC R1). Most
 * recipients moved nothing this tick and get the same frame: it is built
 * once and handed to all of them first, in a row, so that the transport
 * encodes it once too (it remembers the last text it encoded). Then each
 * recipient that wrote keys this tick gets the shared frame with its own
 * fragments cut out (A3), and each that joined during the tick the frame
 * without what its snapshot held. Every recipient gets exactly
 * {@link recipientFrame}, or nothing when that is null.
 */
export function fanOut<R>(
  fragments: readonly Fragment<R>[],
  recipients: Iterable<R>,
  /** Recipients that joined during the tick, with the change counter at their join. */
  newcomers: ReadonlyMap<R, number>,
  deliver: (recipient: R, text: string) => void,
): FanOutResult {
  const result: FanOutResult = { sentBytes: 0, largest: 0 };
  const shared = new SharedFrame(fragments);
  if (shared.text === null) return result;
  // Each author's own fragments, by index (ascending).
  const own = new Map<R | null | 'many', number[]>();
  fragments.forEach((fragment, index) => {
    if (fragment.author === null || fragment.author === 'many') return;
    const list = own.get(fragment.author);
    if (list) list.push(index);
    else own.set(fragment.author, [index]);
  });
  const send = (recipient: R, text: string | null): void => {
    if (text === null) return;
    deliver(recipient, text);
    result.sentBytes += text.length;
    if (text.length > result.largest) result.largest = text.length;
  };
  const special: R[] = [];
  for (const recipient of recipients) {
    if (own.has(recipient) || newcomers.has(recipient)) special.push(recipient);
    else send(recipient, shared.text);
  }
  for (const recipient of special) {
    const joinedAt = newcomers.get(recipient);
    if (joinedAt !== undefined) send(recipient, recipientFrame(fragments, recipient, joinedAt));
    else send(recipient, shared.without(own.get(recipient) as number[]));
  }
  return result;
}
