/**
 * SPEC K5 and C5 at the unit level: what the link layer and a forwarded
 * connection do when a link message is lost (keep-alives make the last lost
 * envelope show as a gap, a first envelope after 1 is a gap, a gap is reported
 * back with `reset`, a pending open is bounded), the test hook that loses
 * messages on purpose, and the forwarding node's check of a token refresh.
 * The same paths run with real node processes in link-gap.test.ts.
 */
import { CloseCode } from 'canvas-store-protocol';
import type { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import {
  ClusterConnection,
  type ConnectionRouter,
  type Route,
} from '../../src/cluster/cluster-connection.js';
import { ClusterKeys } from '../../src/cluster/cluster-keys.js';
import { ForwardedRefresh } from '../../src/cluster/forwarded-refresh.js';
import { LINK_DROP_ENV, LinkDropHook } from '../../src/cluster/link-drop-hook.js';
import type { LinkEnvelope, LinkMessage } from '../../src/cluster/link-messages.js';
import { NodeLinks } from '../../src/cluster/node-links.js';
import type { AuthorizeInfo } from '../../src/connection/accept-connection.js';
import type { RoomManager } from '../../src/manager/room-manager.js';
import { FakeSocket } from '../helpers/fake-socket.js';

const keys = new ClusterKeys('postgres://postgres@127.0.0.1:5432/unit');

/** NodeLinks over a recording publisher and a subscriber the test feeds. */
function links(options: { peers?: string[]; hook?: LinkDropHook } = {}) {
  const published: Array<{ channel: string; envelope: LinkEnvelope }> = [];
  let onMessage: ((channel: string, text: string) => void) | undefined;
  const publisher = {
    publish: async (channel: string, text: string) => {
      published.push({ channel, envelope: JSON.parse(text) as LinkEnvelope });
      return 1;
    },
  } as unknown as Redis;
  const subscriber = {
    on: (_event: string, listener: (channel: string, text: string) => void) => {
      onMessage = listener;
    },
    subscribe: async () => 1,
  } as unknown as Redis;
  const messages: Array<[string, LinkMessage]> = [];
  const broken: Array<[string, string]> = [];
  const gaps: Array<[string, number]> = [];
  const dropped: LinkMessage[] = [];
  const node = new NodeLinks(
    publisher,
    subscriber,
    keys,
    'me',
    {
      message: (from, message) => messages.push([from, message]),
      broken: (from, why) => broken.push([from, why]),
      gap: (from, lost) => gaps.push([from, lost]),
      peers: () => options.peers ?? [],
      dropped: (_node, message) => dropped.push(message),
    },
    { dropHook: options.hook },
  );
  const deliver = (envelope: LinkEnvelope) => onMessage?.('channel', JSON.stringify(envelope));
  /** Lets queued sends (published at the end of the iteration) and publishes settle. */
  const settle = () => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
  return { node, published, messages, broken, gaps, dropped, deliver, settle };
}

const frame = (sid: string): LinkMessage => ({ t: 'frame', sid, data: 'x' });
const to = (published: Array<{ channel: string; envelope: LinkEnvelope }>, node: string) =>
  published.filter((entry) => entry.channel === keys.channel(node)).map((entry) => entry.envelope);

describe('lost link messages are detected even when traffic stops (SPEC K5)', () => {
  it('[K5] idle peers get an empty keep-alive carrying the next sequence number; busy ones do not', async () => {
    const { node, published, settle } = links({ peers: ['b', 'c'] });
    node.send('b', frame('s1'));
    await settle();
    node.keepAlive();
    await settle();
    // b got a message this round: no keep-alive; c got nothing: one keep-alive.
    expect(to(published, 'b').map((e) => e.messages.length)).toEqual([1]);
    expect(to(published, 'c')).toEqual([
      { from: 'me', incarnation: expect.any(String), seq: 1, messages: [] },
    ]);
    node.keepAlive();
    await settle();
    expect(to(published, 'b').map((e) => [e.seq, e.messages.length])).toEqual([
      [1, 1],
      [2, 0],
    ]);
  });

  it('[K5] a node that got messages gets one trailing keep-alive even without sessions (a lost last `gone` shows)', async () => {
    const { node, published, settle } = links({ peers: [] });
    node.send('b', { t: 'gone', sid: 's1' });
    await settle();
    node.keepAlive();
    node.keepAlive();
    node.keepAlive();
    await settle();
    expect(to(published, 'b').map((e) => [e.seq, e.messages.length])).toEqual([
      [1, 1],
      [2, 0],
    ]);
  });

  it('[K5] a first envelope numbered after 1 is a gap (the first one, such as an `open`, was lost)', async () => {
    const { node, broken, gaps, messages, published, deliver, settle } = links();
    await node.start();
    deliver({ from: 'b', incarnation: 'i1', seq: 2, messages: [] });
    expect(broken).toEqual([['b', 'gap']]);
    expect(gaps).toEqual([['b', 1]]);
    expect(messages).toEqual([]);
    await settle();
    // The sender is told, so it closes what it relays over the link too.
    expect(to(published, 'b').map((e) => e.messages)).toEqual([[{ t: 'reset' }]]);
  });

  it('[K5] a restarted peer whose first envelope was lost is told so as well', async () => {
    const { node, broken, published, deliver, settle } = links();
    await node.start();
    deliver({ from: 'b', incarnation: 'i1', seq: 1, messages: [] });
    deliver({ from: 'b', incarnation: 'i2', seq: 2, messages: [] });
    expect(broken).toEqual([
      ['b', 'restarted'],
      ['b', 'gap'],
    ]);
    await settle();
    expect(to(published, 'b').map((e) => e.messages)).toEqual([[{ t: 'reset' }]]);
  });

  it('[K5] a `reset` from a peer breaks the link here and is not handed on as a message', async () => {
    const { node, broken, messages, deliver } = links();
    await node.start();
    deliver({ from: 'b', incarnation: 'i1', seq: 1, messages: [{ t: 'reset' }, frame('s')] });
    expect(broken).toEqual([['b', 'reset']]);
    expect(messages).toEqual([['b', frame('s')]]);
  });

  it('[K5] a gap counts every envelope lost', async () => {
    const { node, gaps, deliver } = links();
    await node.start();
    deliver({ from: 'b', incarnation: 'i1', seq: 1, messages: [] });
    deliver({ from: 'b', incarnation: 'i1', seq: 5, messages: [] });
    expect(gaps).toEqual([['b', 3]]);
  });
});

describe(`test hook ${LINK_DROP_ENV}`, () => {
  it('is off unless the variable is set, and refuses a malformed value', () => {
    expect(LinkDropHook.fromEnv({})).toBeUndefined();
    expect(LinkDropHook.fromEnv({ [LINK_DROP_ENV]: ' ' })).toBeUndefined();
    for (const bad of ['open', 'open:0', 'nope:1', 'open:x', 'open:1,']) {
      expect(() => LinkDropHook.fromEnv({ [LINK_DROP_ENV]: bad })).toThrow(LINK_DROP_ENV);
    }
  });

  it('[K5] loses exactly the nth message of a type, in an envelope of its own whose number is used up', async () => {
    const hook = LinkDropHook.fromEnv({ [LINK_DROP_ENV]: 'frame:2' });
    const sender = links({ hook });
    sender.node.send('b', frame('a'));
    sender.node.send('b', frame('b'));
    sender.node.send('b', frame('c'));
    await sender.settle();
    sender.node.send('b', frame('d'));
    await sender.settle();
    expect(sender.dropped).toEqual([frame('b')]);
    const envelopes = to(sender.published, 'b');
    expect(envelopes.map((e) => [e.seq, e.messages.map((m) => (m as { sid: string }).sid)])).toEqual([
      [1, ['a']],
      [3, ['c']],
      [4, ['d']],
    ]);
    // The receiving node sees the loss.
    const receiver = links();
    await receiver.node.start();
    for (const envelope of envelopes) receiver.deliver(envelope);
    expect(receiver.broken).toEqual([['me', 'gap']]);
  });
});

/** A router for one ClusterConnection whose owner is node `o` and never answers. */
function silentRouter(heard = false) {
  const sent: Array<[string, LinkMessage]> = [];
  let timeouts = 0;
  const router: ConnectionRouter = {
    route: async (): Promise<Route> => ({ local: false, node: 'o' }),
    send: (node, message) => sent.push([node, message]),
    registerOutbound: () => {},
    unregisterOutbound: () => {},
    openAnswerTimeoutMs: 50,
    maxOpenAnswerMs: 100,
    heardFrom: () => heard,
    openTimedOut: () => {
      timeouts++;
    },
  };
  return { router, sent, timeouts: () => timeouts };
}

describe('forwarded sessions (SPEC K5, C5)', () => {
  it('[K5] a pending open the owner never answers is closed with 1012, and the owner is told the session is gone', async () => {
    const { router, sent, timeouts } = silentRouter();
    const socket = new FakeSocket();
    const connection = new ClusterConnection(router, {
      socket,
      url: '/?roomId=r&clientId=c&token=t',
      manager: {} as RoomManager,
      authorize: () => ({ permissions: 'readwrite' }),
    });
    await expect(connection.ready).rejects.toThrow();
    expect(socket.closed?.code).toBe(CloseCode.ServiceRestart);
    expect(timeouts()).toBe(1);
    expect(sent.map(([node, message]) => [node, message.t])).toEqual([
      ['o', 'open'],
      ['o', 'gone'],
    ]);
  });

  it('[K5] an owner whose link keeps delivering gets more time for its answer, up to a cap', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    try {
      const { router, timeouts } = silentRouter(true);
      const socket = new FakeSocket();
      const connection = new ClusterConnection(router, {
        socket,
        url: '/?roomId=r&clientId=c&token=t',
        manager: {} as RoomManager,
        authorize: () => ({ permissions: 'readwrite' }),
      });
      connection.ready.catch(() => {});
      await vi.advanceTimersByTimeAsync(60);
      // Past the first wait, still open: the owner's link is alive.
      expect(socket.closed).toBeNull();
      await vi.advanceTimersByTimeAsync(60);
      expect(socket.closed?.code).toBe(CloseCode.ServiceRestart);
      expect(timeouts()).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('[C5] an auth-refresh of a forwarded session runs authorize on the forwarding node too (its socket holds the expiry)', async () => {
    const { router } = silentRouter();
    const calls: AuthorizeInfo[] = [];
    const socket = new FakeSocket();
    const connection = new ClusterConnection(
      { ...router, openAnswerTimeoutMs: 60_000 },
      {
        socket,
        url: '/?roomId=r&clientId=c&token=first',
        manager: {} as RoomManager,
        authorize: (info) => {
          calls.push(info);
          return { permissions: 'readwrite' };
        },
      },
    );
    await new Promise((resolve) => setImmediate(resolve));
    connection.answered({ opened: true });
    await connection.ready;
    connection.onMessage(JSON.stringify({ type: 'patch', messageId: 'auth-refresh', documentPatches: [] }));
    connection.onMessage(JSON.stringify({ type: 'auth-refresh', token: 'second' }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls.map((call) => [call.token, call.request])).toEqual([
      ['first', undefined],
      ['second', undefined],
    ]);
    expect(calls[1]).toMatchObject({ roomId: 'r', clientId: 'c' });
  });

  it('[C5] refreshes flooding in cost one check in flight and one token waiting: the newest token is checked last', async () => {
    const checked: string[] = [];
    let release: (() => void) | undefined;
    const refresh = new ForwardedRefresh(
      (info) => {
        checked.push(info.token);
        return new Promise((resolve) => {
          release = () => resolve({ permissions: 'readwrite' });
        });
      },
      { roomId: 'r', clientId: 'c' },
    );
    for (let i = 1; i <= 50; i++) refresh.onFrame(JSON.stringify({ type: 'auth-refresh', token: `t${i}` }));
    expect(checked).toEqual(['t1']);
    release?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(checked).toEqual(['t1', 't50']);
    refresh.stop();
    release?.();
    refresh.onFrame(JSON.stringify({ type: 'auth-refresh', token: 'late' }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(checked).toEqual(['t1', 't50']);
  });
});
