/**
 * The deepest nesting of objects and arrays in JSON text, found by one linear
 * scan of the raw characters (SPEC B6): brackets inside strings, escaped
 * quotes included, do not count. Stops as soon as `limit` is passed, so the
 * work is at most one pass over the text and no parser ever sees a frame
 * nested deeper than allowed.
 *
 * The text need not be valid JSON: invalid text is left for `JSON.parse` to refuse.
 *
 * @returns true when no point of the text is nested deeper than `limit`.
 *
 * @example
 * ```ts
 * withinDepth('{"a":[[1]],"s":"[[[["}', 3); // true: the brackets in the string do not count
 * withinDepth('[[[[]]]]', 3); // false
 * ```
 */
export function withinDepth(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH)
        i++; // the escaped character cannot end the string
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return false;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return true;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
