/**
 * Preloaded into the server process by the reliability tests
 * (`node --expose-gc --import process-probe.mjs cli.js ...`, spawned with an
 * IPC channel). On a `{ type: 'probe', id }` message it runs a full garbage
 * collection and answers with the heap after GC and the open descriptors, so
 * a test can watch the real command's memory without changing it.
 */
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const gc = globalThis.gc;
if (typeof process.send === 'function' && typeof gc === 'function') {
  // The worst event-loop delay since the previous probe, read before this probe's own GC.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  process.on('message', (message) => {
    if (message === null || typeof message !== 'object' || message.type !== 'probe') return;
    const loopDelayMaxMs = loop.max / 1e6;
    // Two passes: the first may only queue finalizers whose objects the second frees.
    gc();
    gc();
    const memory = process.memoryUsage();
    process.send({
      type: 'probe',
      id: message.id,
      heapUsed: memory.heapUsed,
      external: memory.external,
      arrayBuffers: memory.arrayBuffers,
      rss: memory.rss,
      fds: readdirSync('/proc/self/fd').length,
      loopDelayMaxMs,
    });
    // The GC above delays the loop too: reset once that delay has been recorded.
    setTimeout(() => loop.reset(), 25);
  });
  // The listener must not keep the server alive: graceful shutdown exits on its own.
  process.channel?.unref();
}
