import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ClusterKeys } from '../../src/cluster/cluster-keys.js';
import type { LinkEnvelope, LinkMessage } from '../../src/cluster/link-messages.js';
import { NodeLinks } from '../../src/cluster/node-links.js';
import { preferredOwner } from '../../src/cluster/rendezvous.js';

const keys = new ClusterKeys('postgres://postgres@127.0.0.1:5432/unit');

/** A publisher that records envelopes, and a subscriber the test feeds. */
function fakeRedis(receivers = 1) {
  const published: Array<{ channel: string; envelope: LinkEnvelope }> = [];
  let onMessage: ((channel: string, text: string) => void) | undefined;
  const publisher = {
    publish: async (channel: string, text: string) => {
      published.push({ channel, envelope: JSON.parse(text) as LinkEnvelope });
      return receivers;
    },
  };
  const subscriber = {
    on: (_event: string, listener: (channel: string, text: string) => void) => {
      onMessage = listener;
    },
    subscribe: async () => 1,
  };
  const deliver = (envelope: LinkEnvelope) => onMessage?.('channel', JSON.stringify(envelope));
  return {
    publisher: publisher as unknown as Redis,
    subscriber: subscriber as unknown as Redis,
    published,
    deliver,
  };
}

function links(receivers = 1) {
  const redis = fakeRedis(receivers);
  const messages: Array<[string, LinkMessage]> = [];
  const broken: Array<[string, string]> = [];
  const node = new NodeLinks(redis.publisher, redis.subscriber, keys, 'me', {
    message: (from, message) => messages.push([from, message]),
    broken: (from, why) => broken.push([from, why]),
  });
  return { node, redis, messages, broken };
}

const frame = (sid: string): LinkMessage => ({ t: 'frame', sid, data: 'x' });

describe('rendezvous ownership (SPEC K1)', () => {
  const rooms = Array.from({ length: 600 }, (_, i) => `room-${i}`);

  it('[K1] every node computes the same owner whatever order it lists the members in', () => {
    for (const room of rooms) {
      expect(preferredOwner(room, ['a', 'b', 'c'])).toBe(preferredOwner(room, ['c', 'a', 'b']));
    }
    expect(preferredOwner('r', [])).toBeUndefined();
  });

  it('[K1] a node leaving moves only the rooms it owned; rooms spread over every node', () => {
    const counts = new Map<string, number>();
    for (const room of rooms) {
      const owner = preferredOwner(room, ['a', 'b', 'c']) as string;
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
      if (owner !== 'c') expect(preferredOwner(room, ['a', 'b'])).toBe(owner);
    }
    for (const node of ['a', 'b', 'c']) expect(counts.get(node)).toBeGreaterThan(100);
  });
});

describe('links between nodes (SPEC K5)', () => {
  it('[K5] messages of one iteration travel in one envelope; a frame for many sessions travels once', async () => {
    const { node, redis } = links();
    node.sendOut('b', 's1', 'frame-1');
    node.sendOut('b', 's2', 'frame-1');
    node.send('b', { t: 'close', sid: 's1', code: 1012, reason: 'r' });
    node.sendOut('b', 's2', 'frame-2');
    await node.flush();
    expect(redis.published).toHaveLength(1);
    const [first] = redis.published;
    expect(first?.channel).toBe(keys.channel('b'));
    expect(first?.envelope.seq).toBe(1);
    expect(first?.envelope.messages).toEqual([
      { t: 'out', sids: ['s1', 's2'], data: 'frame-1' },
      { t: 'close', sid: 's1', code: 1012, reason: 'r' },
      { t: 'out', sids: ['s2'], data: 'frame-2' },
    ]);
    node.send('b', frame('s3'));
    await node.flush();
    expect(redis.published[1]?.envelope.seq).toBe(2);
  });

  it('[K5] a skipped sequence number breaks the link; messages still arrive in order', async () => {
    const { node, redis, messages, broken } = links();
    await node.start();
    redis.deliver({ from: 'b', incarnation: 'i1', seq: 1, messages: [frame('a')] });
    redis.deliver({ from: 'b', incarnation: 'i1', seq: 2, messages: [frame('b')] });
    expect(broken).toEqual([]);
    redis.deliver({ from: 'b', incarnation: 'i1', seq: 4, messages: [frame('c')] });
    expect(broken).toEqual([['b', 'gap']]);
    redis.deliver({ from: 'b', incarnation: 'i2', seq: 1, messages: [frame('d')] });
    expect(broken).toEqual([
      ['b', 'gap'],
      ['b', 'restarted'],
    ]);
    expect(messages.map(([, m]) => (m as { sid: string }).sid)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('[K5] a publish that reaches no subscriber (dead node, Redis down) breaks the link at once', async () => {
    const { node, broken } = links(0);
    node.send('gone-node', frame('s'));
    await node.flush();
    expect(broken).toEqual([['gone-node', 'publish-failed']]);
  });

  it('[K5] an unreadable envelope is ignored, not delivered', async () => {
    const { node, redis, messages } = links();
    await node.start();
    redis.deliver({
      from: 'b',
      incarnation: 'i',
      seq: 1,
      messages: [{ t: 'nope' } as unknown as LinkMessage],
    });
    expect(messages).toEqual([]);
  });
});
