import type { ServerMessage } from '../../../src/index.js';
import { FakeSocket } from '../../helpers/fake-socket.js';
import { ourSide, type Side } from './twin-rooms.js';

/**
 * Deliberately wrong servers, to show that the differential suite catches the
 * bugs of issue 10: a suite that passes them would prove nothing.
 */

/** A socket that rewrites each frame the room sends before recording it. */
class RewritingSocket extends FakeSocket {
  constructor(private readonly rewrite: (frame: ServerMessage) => ServerMessage) {
    super();
  }

  override send(data: string): void {
    super.send(JSON.stringify(this.rewrite(JSON.parse(data) as ServerMessage)));
  }
}

/** Our room, with every socket rewritten by `rewrite`. */
function rewritten(rewrite: (frame: ServerMessage) => ServerMessage): Side {
  const side = ourSide();
  return {
    ...side,
    connect(clientId, permissions) {
      const { sessionId, socket } = side.connect(clientId, permissions);
      const proxy = new RewritingSocket(rewrite);
      // Forward what the room sends to the real socket through the rewrite.
      const send = socket.send.bind(socket);
      socket.send = (data: string) => {
        proxy.send(data);
        send(data);
      };
      return { sessionId, socket: proxy };
    },
  };
}

/**
 * The first bug of issue 10: every key of a reconnect reply that carries
 * `_exists: true` (written whole since the client's clock) is preceded by a
 * tombstone, deleted or not.
 */
export function needlessTombstones(): Side {
  return rewritten((frame) => {
    if (frame.type !== 'patch' || frame.clientId !== '' || frame.documentPatches?.length !== 1) return frame;
    const [changes] = frame.documentPatches;
    const replaced: Record<string, { _exists: false }> = {};
    for (const [key, value] of Object.entries(changes ?? {})) {
      if (value._exists === true) replaced[key] = { _exists: false };
    }
    if (Object.keys(replaced).length === 0) return frame;
    return { ...frame, documentPatches: [replaced, changes ?? {}] };
  });
}
