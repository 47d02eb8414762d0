import { expect, it } from 'vitest';
import { isIncrementalStorage, type Room, RoomLoadError, type RoomSnapshot } from '../../src/index.js';
import { deferred } from '../helpers/room-assertions.js';
import { connect, type FakeClient } from '../helpers/room-harness.js';
import {
  acks,
  type ContractContext,
  capturingLogger,
  connectLogged,
  failFirst,
  trackUnhandledRejections,
  turns,
  waitFor,
  wrapStorage,
  write,
} from './contract-helpers.js';

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** O4 and P2-P5 through real Rooms: when acks are sent, failures, broken data, shutdown. */
export function describeDurabilityContract(ctx: ContractContext): void {
  it('[P1][O4] the backend hands out an IncrementalStorage exactly when it is declared durable', () => {
    expect(isIncrementalStorage(ctx.backend.storageFor('shape'))).toBe(ctx.traits.durable);
  });

  if (ctx.traits.durable) describeDurableAcks(ctx);
  else describeImmediateAcks(ctx);

  it('[P3] a load that throws keeps the room closed: getRoom rejects with RoomLoadError, nothing is overwritten', async () => {
    const room = await ctx.open('p3-load');
    write(connect(room), { k: { _exists: true, v: 1 } });
    await room.close();
    await ctx.backend.restart();
    const failure = new Error('database unreachable');
    const manager = ctx.manager({
      createStorage: (roomId) =>
        wrapStorage(ctx.backend.storageFor(roomId), {
          beforeLoad: () => {
            throw failure;
          },
        }),
    });
    const opening = manager.getRoom('p3-load');
    await expect(opening).rejects.toBeInstanceOf(RoomLoadError);
    await expect(opening).rejects.toMatchObject({ roomId: 'p3-load', cause: failure });
    expect(manager.getExistingRoom('p3-load')).toBeUndefined();
    expect(manager.getRoomIds()).toEqual([]);
    await manager.closeAll();
    const stored = await ctx.backend.storageFor('p3-load').load();
    expect(stored?.state.k).toEqual({ _exists: true, v: 1 });
  });

  it('[P3][B5] corrupt stored data makes the room fail to open, never open empty; other rooms still open', async () => {
    const room = await ctx.open('p3-corrupt');
    write(connect(room), { k: { _exists: true, v: 1 } });
    await room.close();
    await ctx.backend.corrupt('p3-corrupt');
    await ctx.backend.restart();
    await expect(ctx.open('p3-corrupt')).rejects.toThrow();

    const manager = ctx.manager({ createStorage: (roomId) => ctx.backend.storageFor(roomId) });
    await expect(manager.getRoom('p3-corrupt')).rejects.toBeInstanceOf(RoomLoadError);
    expect(manager.getExistingRoom('p3-corrupt')).toBeUndefined();
    const healthy = await manager.getRoom('p3-healthy');
    write(connect(healthy), { h: { _exists: true } });
    await manager.closeAll();
    // The failed open saved nothing over the data: it still fails, after another restart too.
    await ctx.backend.restart();
    const later = ctx.manager({ createStorage: (roomId) => ctx.backend.storageFor(roomId) });
    await expect(later.getRoom('p3-corrupt')).rejects.toBeInstanceOf(RoomLoadError);
    expect((await later.getRoom('p3-healthy')).getSnapshot().state).toEqual({ h: { _exists: true } });
  });

  it('[P5] RoomManager.closeAll() resolves only after every room is persisted', async () => {
    const log: string[] = [];
    const manager = ctx.manager({
      createStorage: (roomId) =>
        wrapStorage(ctx.backend.storageFor(roomId), {
          // Slow storage, so that closeAll has something to wait for.
          beforeCommit: () => pause(5),
          afterCommit: (batch) => log.push(`${roomId}@${batch.timestamp}`),
          beforeSave: () => pause(5),
          afterSave: (snapshot) => log.push(`${roomId}@${snapshot.timestamp}`),
        }),
    });
    const ids = Array.from({ length: 5 }, (_, i) => `p5-${i}`);
    const rooms = await Promise.all(ids.map((id) => manager.getRoom(id)));
    rooms.forEach((room, i) => {
      const client = connect(room);
      for (let n = 0; n <= i; n++) write(client, { [`k${n}`]: { _exists: true, n, room: ids[i] } });
      write(client, { k0: { _exists: false } });
    });
    // Every write is still only in memory when closeAll starts.
    const expected = rooms.map((room) => room.getSnapshot());
    await manager.closeAll();
    log.push('closeAll resolved');
    for (const [i, id] of ids.entries()) {
      const persisted = log.indexOf(`${id}@${expected[i]?.timestamp}`);
      expect(persisted, `${id} persisted its final clock`).toBeGreaterThanOrEqual(0);
      expect(persisted).toBeLessThan(log.indexOf('closeAll resolved'));
    }
    await ctx.backend.restart();
    const next = ctx.manager({ createStorage: (roomId) => ctx.backend.storageFor(roomId) });
    for (const [i, id] of ids.entries()) {
      expect((await next.getRoom(id)).getSnapshot()).toEqual(expected[i]);
    }
  });
}

/** Acks of durable storages wait for their commit (SPEC O4, P2, P4). */
function describeDurableAcks(ctx: ContractContext): void {
  it('[O4][P2] an ack and its broadcast are sent only after the commit holding the write resolved', async () => {
    const log: string[] = [];
    const readsAtAck: Array<Promise<RoomSnapshot | null>> = [];
    const storage = wrapStorage(ctx.backend.storageFor('o4'), {
      afterCommit: (batch) => log.push(`commit@${batch.timestamp}`),
    });
    const room = await ctx.open('o4', { storage });
    const a = connectLogged(room, 'a', log, (message) => {
      if (message.type === 'ack') readsAtAck.push(ctx.backend.storageFor('o4').load());
    });
    connectLogged(room, 'b', log);
    log.length = 0;
    const id = write(a, { k: { _exists: true, v: 1 } });
    expect(log).toEqual([]); // nothing is sent synchronously
    await waitFor(() => acks(a).length === 1, 'the ack');
    expect(log).toEqual(['commit@1', `a:ack:${id}`, 'b:patch']);
    // When the ack went out, a fresh storage instance could already read the write.
    expect((await readsAtAck[0])?.state.k).toEqual({ _exists: true, v: 1 });
  });

  it('[O4][O2][O3] while a commit is pending no ack or broadcast of its writes is sent; released frames keep their order', async () => {
    const gate = deferred<void>();
    const storage = wrapStorage(ctx.backend.storageFor('o4-held'), {
      beforeCommit: (_, call) => (call === 1 ? gate.promise : undefined),
    });
    const room = await ctx.open('o4-held', { storage });
    const a = connect(room, { clientId: 'a' });
    const b = connect(room, { clientId: 'b' });
    a.socket.clear();
    b.socket.clear();
    const m1 = write(a, { k1: { _exists: true } });
    const m2 = write(b, { k2: { _exists: true } });
    await turns(5);
    expect(a.socket.sent).toEqual([]);
    expect(b.socket.sent).toEqual([]);
    expect(room.stats.heldFrames).toBe(4);
    const m3 = write(a, { k3: { _exists: true } }); // a second batch, behind the pending one
    await turns(5);
    expect(a.socket.sent).toEqual([]);
    gate.resolve();
    await waitFor(() => acks(a).length === 2, 'both acks of a');
    expect(a.socket.messages).toEqual([
      { type: 'ack', messageId: m1, timestamp: 1 },
      { type: 'patch', clientId: 'b', documentPatches: [{ k2: { _exists: true } }], timestamp: 2 },
      { type: 'ack', messageId: m3, timestamp: 3 },
    ]);
    expect(b.socket.messages).toEqual([
      { type: 'patch', clientId: 'a', documentPatches: [{ k1: { _exists: true } }], timestamp: 1 },
      { type: 'ack', messageId: m2, timestamp: 2 },
      { type: 'patch', clientId: 'a', documentPatches: [{ k3: { _exists: true } }], timestamp: 3 },
    ]);
  });

  it('[P4][O4] a commit failing twice (a throw, then a rejection) is logged, counted and retried; its acks wait for success', async () => {
    const logger = capturingLogger();
    const unhandled = trackUnhandledRejections();
    const failure = new Error('injected commit failure');
    const duringFailures: Array<{ acks: number; broadcasts: number; held: number }> = [];
    let a: FakeClient | undefined;
    let b: FakeClient | undefined;
    let room: Room | undefined;
    const storage = wrapStorage(ctx.backend.storageFor('p4-commit'), {
      beforeCommit: failFirst(2, failure, () =>
        duringFailures.push({
          acks: a ? acks(a).length : -1,
          broadcasts: b ? b.socket.ofType('patch').length : -1,
          held: room?.stats.heldFrames ?? -1,
        }),
      ),
    });
    room = await ctx.open('p4-commit', { storage, logger });
    const opened = room;
    a = connect(room);
    b = connect(room);
    const id = write(a, { k: { _exists: true, v: 1 } });
    await waitFor(() => opened.stats.commits === 1, 'the third commit attempt to succeed');
    expect(duringFailures).toEqual([
      { acks: 0, broadcasts: 0, held: 2 },
      { acks: 0, broadcasts: 0, held: 2 },
    ]);
    expect(opened.stats.commitFailures).toBe(2);
    const errors = logger.errors();
    expect(errors).toHaveLength(2);
    for (const entry of errors) expect(entry.context).toMatchObject({ err: failure, roomId: 'p4-commit' });
    expect(acks(a)).toEqual([{ messageId: id, timestamp: 1 }]);
    expect(b.socket.ofType('patch')).toHaveLength(1);
    expect(opened.isClosed).toBe(false);
    write(a, { k: { v: 2 } });
    await opened.flush();
    expect(opened.stats.commits).toBe(2);
    const again = await ctx.cycle(opened, 'p4-commit');
    expect(again.getSnapshot().state).toEqual({ k: { _exists: true, v: 2 } });
    expect(unhandled.stop()).toEqual([]);
  });
}

/** Load/save storages: acks never wait; saves are throttled, retried and counted (SPEC P1, P4). */
function describeImmediateAcks(ctx: ContractContext): void {
  it('[O4][P1] a load/save storage acks and broadcasts at once, even while a save is pending', async () => {
    const gate = deferred<void>();
    let saves = 0;
    const storage = wrapStorage(ctx.backend.storageFor('o4-now'), {
      beforeSave: () => {
        saves++;
        return gate.promise;
      },
    });
    const room = await ctx.open('o4-now', { storage });
    const a = connect(room);
    const b = connect(room);
    const first = write(a, { k: { _exists: true, v: 1 } });
    expect(acks(a)).toEqual([{ messageId: first, timestamp: 1 }]);
    expect(b.socket.ofType('patch')).toHaveLength(1);
    await waitFor(() => saves === 1, 'the first save to start');
    const second = write(a, { k: { v: 2 } });
    expect(acks(a)).toEqual([
      { messageId: first, timestamp: 1 },
      { messageId: second, timestamp: 2 },
    ]);
    gate.resolve();
    const again = await ctx.cycle(room, 'o4-now');
    expect(again.getSnapshot().state).toEqual({ k: { _exists: true, v: 2 } });
  });

  it('[P4] a save failing twice (a throw, then a rejection) is logged, counted and retried; acks are not held', async () => {
    const logger = capturingLogger();
    const unhandled = trackUnhandledRejections();
    const failure = new Error('injected save failure');
    const storage = wrapStorage(ctx.backend.storageFor('p4-save'), { beforeSave: failFirst(2, failure) });
    const room = await ctx.open('p4-save', { storage, logger });
    const a = connect(room);
    const id = write(a, { k: { _exists: true, v: 1 } });
    expect(acks(a)).toEqual([{ messageId: id, timestamp: 1 }]);
    await waitFor(() => room.stats.saves === 1, 'the third save attempt to succeed');
    expect(room.stats.saveFailures).toBe(2);
    const errors = logger.errors();
    expect(errors).toHaveLength(2);
    for (const entry of errors) expect(entry.context).toMatchObject({ err: failure, roomId: 'p4-save' });
    expect(room.isClosed).toBe(false);
    // Restart without close: the retried save alone holds the write.
    await ctx.backend.restart();
    const stored = await ctx.backend.storageFor('p4-save').load();
    expect(stored?.state.k).toEqual({ _exists: true, v: 1 });
    expect(unhandled.stop()).toEqual([]);
  });
}
