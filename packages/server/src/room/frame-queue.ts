/** The bound a frame would pass if it were queued. */
type QueueOverflow = 'frames' | 'bytes';

/**
 * Frames held, in arrival order, while an asynchronous step (authorizing and
 * loading a connection, an `auth-refresh`) decides how to handle them. Bounded
 * by count and by size, so a client cannot make the server hold megabytes
 * (SPEC B6). Sizes are UTF-16 lengths: cheap, and never below the UTF-8 size
 * divided by three.
 */
export class FrameQueue {
  private frames: string[] = [];
  private chars = 0;

  constructor(
    private readonly maxFrames: number,
    private readonly maxChars: number,
  ) {}

  /** Number of frames held. */
  get length(): number {
    return this.frames.length;
  }

  /** Queues `text`, or returns the bound it would pass (nothing is queued then). */
  push(text: string): QueueOverflow | null {
    if (this.frames.length >= this.maxFrames) return 'frames';
    if (this.chars + text.length > this.maxChars) return 'bytes';
    this.frames.push(text);
    this.chars += text.length;
    return null;
  }

  /** Takes the oldest frame. */
  shift(): string | undefined {
    const text = this.frames.shift();
    if (text !== undefined) this.chars -= text.length;
    return text;
  }

  /** Takes every frame, oldest first, leaving the queue empty. */
  drain(): string[] {
    const frames = this.frames;
    this.clear();
    return frames;
  }

  /** Forgets every frame. */
  clear(): void {
    this.frames = [];
    this.chars = 0;
  }
}
