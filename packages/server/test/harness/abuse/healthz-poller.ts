/**
 * The one `/healthz` poller of the abuse suites: requests back to back (one in
 * flight), a pause between them, and the slowest answer kept — how long the
 * server's event loop kept a bystander waiting. Both abuse harnesses use it:
 * `startSamplers` (abuse-harness.ts) and `HealthzSampler` (principals-harness.ts).
 */

/** How the poller treats a failed request. */
interface HealthzPollOptions {
  /** Milliseconds between one answer and the next request. */
  pauseMs: number;
  /**
   * True: a failed request ends the polling and sets {@link HealthzPoller.failed}
   * (the server died). False: the failure rejects {@link HealthzPoller.stop}.
   */
  stopOnError: boolean;
  /** Checked before each request; polling ends when it returns false. */
  keepGoing?: () => boolean;
}

/** Polls `/healthz` through `get` until stopped. */
export class HealthzPoller {
  /** Slowest answer so far (ms). */
  worstMs = 0;
  /** Answers received. */
  samples = 0;
  /** True once a request failed (only with `stopOnError`). */
  failed = false;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(get: () => Promise<unknown>, options: HealthzPollOptions) {
    const keepGoing = options.keepGoing ?? (() => true);
    this.loop = (async () => {
      while (this.running && keepGoing()) {
        const started = performance.now();
        if (options.stopOnError) {
          try {
            await get();
          } catch {
            this.failed = true;
            break;
          }
        } else {
          await get();
        }
        this.worstMs = Math.max(this.worstMs, performance.now() - started);
        this.samples++;
        await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
      }
    })();
  }

  /** Stops polling and waits for the request in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
