import type { SessionPermission } from '../room/session.js';

/**
 * The messages between nodes (SPEC K1, K5). `sid` names a forwarded session:
 * made by the node holding the client's socket, unique in the cluster.
 */
export type LinkMessage =
  /** Forwarder to owner: attach a session of an already authorized client. */
  | {
      t: 'open';
      sid: string;
      roomId: string;
      url: string;
      permissions: SessionPermission;
      metadata: unknown;
    }
  /** Owner to forwarder: the session exists; frames may flow. */
  | { t: 'opened'; sid: string }
  /** Owner to forwarder: this node does not own the room; `holder` does, if known. */
  | { t: 'refused'; sid: string; holder?: string }
  /** Forwarder to owner: a frame the client sent. */
  | { t: 'frame'; sid: string; data: string }
  /** Owner to forwarder: one frame for each of these sessions, in order with their other frames. */
  | { t: 'out'; sids: string[]; data: string }
  /** Owner to forwarder: close the client's socket. */
  | { t: 'close'; sid: string; code: number; reason: string }
  /** Forwarder to owner: the client's socket closed. */
  | { t: 'gone'; sid: string }
  /**
   * Either way: the receiver saw a sequence gap in what this node sent it, so
   * every session relayed between the two must be closed on this side too (a
   * lost `open` names a session only the sender knows; SPEC K5).
   */
  | { t: 'reset' };

/**
 * What travels on a link in one publish: the sender, its incarnation (a new
 * process with the same node id starts a new link), a sequence number per
 * (sender, receiver) link starting at 1, and the messages of one event-loop iteration.
 * An envelope without messages is a keep-alive: it only carries the sequence
 * number, so a receiver notices a lost envelope even when traffic stops.
 */
export interface LinkEnvelope {
  from: string;
  incarnation: string;
  seq: number;
  messages: LinkMessage[];
}

/** Every message type, for the parser and the test hook. */
export const LINK_MESSAGE_TYPES: ReadonlySet<string> = new Set([
  'open',
  'opened',
  'refused',
  'frame',
  'out',
  'close',
  'gone',
  'reset',
]);

/**
 * Parses an envelope read from Redis; undefined when it is not one. Only nodes
 * of the cluster publish on its channels, so this guards against corruption and
 * version skew, not against a hostile peer.
 */
export function parseEnvelope(text: string): LinkEnvelope | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const envelope = value as Partial<LinkEnvelope>;
  if (
    typeof envelope.from !== 'string' ||
    typeof envelope.incarnation !== 'string' ||
    typeof envelope.seq !== 'number' ||
    !Array.isArray(envelope.messages)
  ) {
    return undefined;
  }
  for (const message of envelope.messages as unknown[]) {
    const t = (message as { t?: unknown } | null)?.t;
    if (typeof t !== 'string' || !LINK_MESSAGE_TYPES.has(t)) return undefined;
  }
  return envelope as LinkEnvelope;
}
