/** A throttled function: at most one call per interval, the last arguments always win. */
export interface Throttled<A extends unknown[]> {
  (...args: A): void;
  /** Runs a pending call now. */
  flush(): void;
  /** Drops a pending call. */
  cancel(): void;
}

/**
 * Throttles `fn` to one call per `intervalMs`: the first call runs at once,
 * later ones within the interval collapse into one trailing call.
 */
export function throttle<A extends unknown[]>(fn: (...args: A) => void, intervalMs: number): Throttled<A> {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: A | undefined;
  const run = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const args = pending;
    pending = undefined;
    if (args === undefined) return;
    last = performance.now();
    fn(...args);
  };
  const throttled = (...args: A) => {
    pending = args;
    const wait = last + intervalMs - performance.now();
    if (wait <= 0) run();
    else timer ??= setTimeout(run, wait);
  };
  throttled.flush = run;
  throttled.cancel = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    pending = undefined;
  };
  return throttled;
}
