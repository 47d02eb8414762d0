import { afterEach, describe, expect, it } from 'vitest';
import type { ClientEvents } from '../src/index.js';
import { PresenceState } from '../src/presence.js';
import { closeClients, eventually, makeClient } from './helpers/clients.js';
import { TestServer } from './helpers/test-server.js';

let server: TestServer | undefined;

afterEach(async () => {
  closeClients();
  await server?.stop();
  server = undefined;
});

describe('presence', () => {
  it('[E1] [D5] own presence is created with `_exists: true`, updated by its changed fields, re-created whole when a field goes', () => {
    const presence = new PresenceState('me');
    presence.setOwn({ x: 1, y: 2, _exists: false });
    expect(presence.takeUpdate()).toEqual([{ 'presence/me': { _exists: true, x: 1, y: 2 } }]);
    presence.setOwn({ x: 3, y: 2 });
    expect(presence.takeUpdate()).toEqual([{ 'presence/me': { x: 3 } }]);
    presence.setOwn({ x: 3 });
    expect(presence.takeUpdate()).toEqual([
      { 'presence/me': { _exists: false } },
      { 'presence/me': { _exists: true, x: 3 } },
    ]);
    expect(presence.takeForReconnect()).toEqual([{ 'presence/me': { _exists: true, x: 3 } }]);
    presence.setOwn(null);
    expect(presence.takeUpdate()).toEqual([{ 'presence/me': { _exists: false } }]);
  });

  it('[E1] [E3] presence appears on the others, updates, and disappears when its client leaves', async () => {
    server = await TestServer.start();
    const a = makeClient(server.url, 'room', { clientId: 'alice' });
    const b = makeClient(server.url, 'room', { clientId: 'bob' });
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    const events: Array<ClientEvents['presence']> = [];
    b.on('presence', (event) => events.push(event));
    a.setPresence({ name: 'Alice', cursor: [1, 2] });
    await eventually(() => b.presence.get('alice')?.name === 'Alice');
    expect(b.presence.get('alice')).toEqual({ name: 'Alice', cursor: [1, 2] });
    expect(a.presence.has('alice')).toBe(false);
    a.setPresence({ name: 'Alice', cursor: [5, 6] });
    await eventually(() => expect(b.presence.get('alice')?.cursor).toEqual([5, 6]));
    a.disconnect();
    await eventually(() => !b.presence.has('alice'));
    expect(events.at(-1)).toEqual({ clientId: 'alice', state: undefined });
  });

  it('[E1] setPresence replaces the whole state, and null removes it', async () => {
    server = await TestServer.start();
    const a = makeClient(server.url, 'room', { clientId: 'alice' });
    const b = makeClient(server.url, 'room', { clientId: 'bob' });
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    a.setPresence({ name: 'Alice', selection: ['e1'] });
    await eventually(() => b.presence.get('alice')?.name === 'Alice');
    a.setPresence({ name: 'Alice' });
    await eventually(() => b.presence.get('alice')?.selection === undefined);
    expect(b.presence.get('alice')).toEqual({ name: 'Alice' });
    a.setPresence(null);
    await eventually(() => !b.presence.has('alice'));
  });

  it('[E2] a client joining later sees the presence already there; presence is resent after a reconnect', async () => {
    server = await TestServer.start();
    const a = makeClient(server.url, 'room', { clientId: 'alice' });
    await a.whenSynced();
    a.setPresence({ name: 'Alice' });
    const b = makeClient(server.url, 'room', { clientId: 'bob' });
    await eventually(() => b.presence.get('alice')?.name === 'Alice');
    a.disconnect();
    await eventually(() => !b.presence.has('alice'));
    a.connect();
    await eventually(() => b.presence.get('alice')?.name === 'Alice');
  });
});
