import type { Patch, ServerMessage, SessionPermission } from '../../../src/index.js';
import type { FakeSocket } from '../../helpers/fake-socket.js';
import { applyReply, applyToWorld, type MirrorState, mergePatches, worldOf } from './client-mirror.js';
import { CLIENT_IDS, cursorPatch, type OpSeed, patchFor } from './traffic.js';
import { drain, ourSide, publishedSide, type Side } from './twin-rooms.js';

/** One session, open on both sides. */
interface TwinSession {
  clientId: string;
  permissions: SessionPermission;
  ids: [string, string];
  sockets: [FakeSocket, FakeSocket];
  /** Each side's remote ephemeral state as this session's client holds it. */
  presence: [Patch, Patch];
  open: boolean;
}

/** What one schedule did and every difference of effect it found. */
interface ScheduleOutcome {
  frames: number;
  reconnects: number;
  differences: string[];
  /** Intended differences met: the published server's presence bug with same-clientId tabs. */
  presenceBugs: number;
  /** Intended differences met: a D7 leading tombstone the client's in-flight re-creation masks. */
  leadingTombstoneCases: number;
}

/** JSON with object keys sorted, so that key order (which no client acts on) does not count. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** A frame's document-related content, as the client acts on it. */
function documentView(frame: ServerMessage): unknown {
  switch (frame.type) {
    case 'patch':
      return frame.documentPatches === undefined
        ? null
        : {
            type: 'patch',
            clientId: frame.clientId,
            documentPatches: frame.documentPatches,
            ts: frame.timestamp,
          };
    case 'clientCount':
      return null;
    default:
      return frame;
  }
}

/**
 * Runs one schedule against our `Room` and the published `Room` side by side
 * and compares, after every frame: clocks, the live document and its stamps,
 * every document frame each session receives (acks, broadcasts, resync,
 * synced), each session's client count and presence, and the effect of every
 * reconnect reply on a mirror of the published client.
 */
export function runSchedule(ops: readonly OpSeed[], makeOurs: () => Side = ourSide): ScheduleOutcome {
  const published = publishedSide();
  const sides: [Side, Side] = [makeOurs(), published];
  /** The stamp of each key's last deletion, for the D7 exception. */
  const lastDeletion = new Map<string, number>();
  const sessions: TwinSession[] = [];
  const outcome: ScheduleOutcome = {
    frames: 0,
    reconnects: 0,
    differences: [],
    presenceBugs: 0,
    leadingTombstoneCases: 0,
  };
  // The world a client holds at each clock value, for reconnects "from any clock".
  const worlds: MirrorState[] = [{}];
  /** Clients whose presence the published server dropped while a tab of theirs was still open. */
  const presenceDiverged = new Set<string>();
  /** Clients whose cursor the room holds (ephemeral state is per client, shared by its tabs). */
  const cursorHolders = new Set<string>();
  const differ = (what: string, ours: unknown, theirs: unknown) => {
    const a = canonical(ours);
    const b = canonical(theirs);
    if (a !== b) outcome.differences.push(`${what}: ours ${a} / published ${b}`);
  };
  const world = (): MirrorState => worldOf(sides[1].live().state);
  const openSessions = () => sessions.filter((s) => s.open);

  /** Compares document frames, counts and presence received by every session since the last check. */
  const compareFrames = (step: string, skip?: TwinSession) => {
    for (const [index, session] of sessions.entries()) {
      if (!session.open || session === skip) continue;
      const frames = session.sockets.map(drain) as [ServerMessage[], ServerMessage[]];
      differ(
        `${step} session ${index} document frames`,
        frames[0].map(documentView).filter((v) => v !== null),
        frames[1].map(documentView).filter((v) => v !== null),
      );
      const counts = frames.map((list) => list.filter((f) => f.type === 'clientCount').at(-1));
      differ(`${step} session ${index} clientCount`, counts[0], counts[1]);
      for (const side of [0, 1] as const) {
        for (const frame of frames[side]) {
          if (frame.type === 'patch' && frame.ephemeralPatches) {
            session.presence[side] = mergePatches(session.presence[side], ...frame.ephemeralPatches);
          }
        }
      }
      differ(
        `${step} session ${index} presence`,
        visiblePresence(session.presence[0]),
        visiblePresence(session.presence[1]),
      );
    }
  };
  const visiblePresence = (presence: Patch): Patch => {
    const out: Patch = {};
    for (const [key, value] of Object.entries(presence)) {
      // A tombstone for a key the client never held changes nothing it shows.
      if (value._exists === false) continue;
      if (presenceDiverged.has(key.slice('cursor/'.length))) continue;
      out[key] = value;
    }
    return out;
  };
  const compareDocument = (step: string) => {
    differ(`${step} clock`, sides[0].clock(), sides[1].clock());
    differ(`${step} live document`, sides[0].live(), sides[1].live());
  };
  const send = (session: TwinSession, frame: unknown) => {
    outcome.frames++;
    for (const side of [0, 1] as const) sides[side].message(session.ids[side], frame);
    worlds[sides[1].clock()] = world();
    for (const [key, stamp] of published.tombstones()) lastDeletion.set(key, stamp);
  };
  const connect = (clientId: string, readonly: boolean): TwinSession => {
    const permissions: SessionPermission = readonly ? 'readonly' : 'readwrite';
    const made = sides.map((side) => side.connect(clientId, permissions));
    const session: TwinSession = {
      clientId,
      permissions,
      ids: [made[0]?.sessionId as string, made[1]?.sessionId as string],
      sockets: [made[0]?.socket as FakeSocket, made[1]?.socket as FakeSocket],
      presence: [{}, {}],
      open: true,
    };
    sessions.push(session);
    return session;
  };

  for (const [n, op] of ops.entries()) {
    const step = `op ${n} (${JSON.stringify(op)})`;
    const open = openSessions();
    const actor = open.length > 0 ? open[op.who % open.length] : undefined;
    if (op.kind <= 4 && actor) {
      const documentPatch = patchFor(op.edits, world(), op.flag % 3 === 0);
      const frame: Record<string, unknown> = { type: 'patch', messageId: `${actor.clientId}-${n}` };
      if (Object.keys(documentPatch).length > 0) frame.documentPatches = [documentPatch];
      if (op.flag >= 3 && !presenceDiverged.has(actor.clientId)) {
        const edit = op.later[0] ?? op.edits[0];
        if (edit) {
          frame.ephemeralPatches = [cursorPatch(actor.clientId, edit, cursorHolders.has(actor.clientId))];
          if (actor.permissions === 'readwrite') {
            if (edit.kind === 4) cursorHolders.delete(actor.clientId);
            else cursorHolders.add(actor.clientId);
          }
        }
      }
      if (frame.documentPatches || frame.ephemeralPatches) send(actor, frame);
    } else if (op.kind === 6 && actor) {
      const siblings = open.filter((s) => s !== actor && s.clientId === actor.clientId);
      // The published server drops a client's presence when any of its tabs leaves (our E3 keeps it).
      if (siblings.length > 0 && cursorHolders.has(actor.clientId)) {
        presenceDiverged.add(actor.clientId);
        outcome.presenceBugs++;
      }
      if (siblings.length === 0) cursorHolders.delete(actor.clientId);
      actor.open = false;
      for (const side of [0, 1] as const) sides[side].close(actor.ids[side]);
    } else {
      // A (re)connecting client: a new socket whose first frame is `reconnect`.
      outcome.reconnects++;
      const clientId = CLIENT_IDS[op.who % CLIENT_IDS.length] as string;
      const readonly = op.kind === 5 && op.flag === 5;
      const clock = sides[1].clock();
      const since = op.kind === 5 ? 0 : Math.min(clock, Math.floor((op.pick / 1000) * (clock + 1)));
      const held = worlds[since] ?? {};
      const offline = op.kind === 5 ? {} : patchFor(op.edits, held, op.flag % 2 === 0);
      const before = applyToWorld(held, offline);
      const session = connect(clientId, readonly);
      if (
        presenceDiverged.has(clientId) &&
        openSessions().filter((s) => s.clientId === clientId).length === 1
      ) {
        presenceDiverged.delete(clientId); // a lone tab again: both servers agree it holds no presence
      }
      const frame: Record<string, unknown> = { type: 'reconnect', lastTimestamp: since, protocolVersion: 2 };
      if (Object.keys(offline).length > 0) frame.documentPatches = [offline];
      compareFrames(`${step} before reconnect`, session);
      send(session, frame);
      const replies = session.sockets.map(drain) as [ServerMessage[], ServerMessage[]];
      const replyOf = (frames: ServerMessage[]) =>
        frames.find((f) => f.type === 'patch' && f.clientId === '' && f.documentPatches !== undefined);
      const ours = replyOf(replies[0]);
      const theirs = replyOf(replies[1]);
      const flushed = op.flag % 2 === 1;
      const later = flushed ? patchFor(op.later, before, false) : {};
      const masks = flushed
        ? { inFlight: mergePatches(offline, later), offline: {} }
        : { inFlight: {}, offline };
      const patchesOf = (reply: ServerMessage | undefined) =>
        reply?.type === 'patch' ? (reply.documentPatches ?? []) : [];
      const oursEffect = applyReply(before, patchesOf(ours), masks);
      const theirsEffect = applyReply(before, patchesOf(theirs), masks);
      const withoutLeadingTombstones = applyReply(before, patchesOf(ours).slice(1), masks);
      // D7: the keys that may lead with a tombstone: live, deleted after `since`, not re-created by this frame.
      const live = sides[1].live().state;
      const mayLead = Object.keys(live).filter(
        (key) => (lastDeletion.get(key) ?? 0) > since && (readonly || offline[key]?._exists !== true),
      );
      const leading = patchesOf(ours).length === 2 ? (patchesOf(ours)[0] ?? {}) : {};
      const leadsAsAllowed =
        Object.keys(leading).every((key) => leading[key]?._exists === false) &&
        canonical(Object.keys(leading).sort()) === canonical(mayLead.sort());
      if (
        canonical(oursEffect) !== canonical(theirsEffect) &&
        leadsAsAllowed &&
        canonical(withoutLeadingTombstones) === canonical(theirsEffect)
      ) {
        // Intended (SPEC D7): the leading tombstone of a key deleted after `since` and re-created,
        // kept by the client's masking while its own in-flight re-creation masks the whole component.
        outcome.leadingTombstoneCases++;
      } else {
        differ(`${step} reconnect reply effect (since ${since})`, oursEffect, theirsEffect);
      }
      differ(
        `${step} reply clocks`,
        replies[0]
          .filter((f) => f.type === 'synced' || f.type === 'resync' || f === ours)
          .map((f) => (f.type === 'patch' ? f.timestamp : f)),
        replies[1]
          .filter((f) => f.type === 'synced' || f.type === 'resync' || f === theirs)
          .map((f) => (f.type === 'patch' ? f.timestamp : f)),
      );
      for (const side of [0, 1] as const) {
        for (const f of replies[side]) {
          if (f.type === 'patch' && f.ephemeralPatches) {
            session.presence[side] = mergePatches(session.presence[side], ...f.ephemeralPatches);
          }
        }
      }
      if (Object.keys(later).length > 0) {
        send(session, { type: 'patch', messageId: `${clientId}-later-${n}`, documentPatches: [later] });
      }
    }
    compareFrames(step);
    compareDocument(step);
    if (outcome.differences.length > 0) break;
  }
  return outcome;
}
