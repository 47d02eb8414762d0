import type { Socket } from 'node:net';

/**
 * Batches each TCP socket's writes per event-loop iteration: the first frame
 * written to a socket in an iteration corks it, and every corked socket is
 * uncorked in a `setImmediate`, so a socket's frames of one iteration leave in
 * one syscall (ARCHITECTURE "The write path"). Order within a socket is kept.
 */
export class WriteBatcher {
  private readonly corked = new Set<Socket>();
  private scheduled = false;

  /** Corks `socket` until the end of this iteration. */
  hold(socket: Socket): void {
    if (this.corked.has(socket)) return;
    socket.cork();
    this.corked.add(socket);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.release());
    }
  }

  /** Uncorks every held socket. */
  release(): void {
    this.scheduled = false;
    for (const socket of this.corked) socket.uncork();
    this.corked.clear();
  }
}
