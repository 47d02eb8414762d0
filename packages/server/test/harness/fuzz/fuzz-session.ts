/**
 * Running one planned fuzz session against the server process and checking
 * what it was answered (SPEC B1-B5).
 */
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { Frame, ServerProcess, WireClient } from '../server-process.js';
import { EXPECTED_CLOSE, type SessionPlan } from './frame-fuzzer.js';
import { FRAME_ERROR_CODES, type FuzzFrame } from './fuzz-basics.js';
import { ClockOrder, clocks, type FuzzStats, learnClock } from './fuzz-clients.js';
import { count, MAX_FRAME_BYTES, sleep } from './fuzz-run.js';
import { LATEST } from './valid-frames.js';

function sendFrame(client: WireClient, frame: FuzzFrame, roomId: string, stats: FuzzStats): void {
  let data = frame.data;
  if (typeof data === 'string') data = data.replaceAll(`"${LATEST}"`, String(clocks.get(roomId) ?? 0));
  if (client.ws.readyState !== WebSocket.OPEN) return;
  client.ws.send(data, { binary: frame.binary });
  stats.framesSent++;
  stats.bytesSent += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  count(stats.kinds, frame.kind);
}

/**
 * Sends `data` over and over (a flood) until the server closes the session.
 * Each batch waits for the previous one to leave the client, so the flood
 * stops soon after the close instead of queueing megabytes nobody reads.
 */
async function floodUntilClosed(
  client: WireClient,
  kind: string,
  data: string,
  batch: number,
  rounds: number,
  stats: FuzzStats,
): Promise<void> {
  for (let round = 0; round < rounds && client.ws.readyState === WebSocket.OPEN; round++) {
    for (let i = 0; i < batch; i++)
      sendFrame(client, { kind, data, binary: false, validity: 'valid' }, '', stats);
    while (client.ws.bufferedAmount > 0 && client.ws.readyState === WebSocket.OPEN) await sleep(5);
    await sleep(5);
  }
}

const PAD = 'p'.repeat(MAX_FRAME_BYTES - 200);

/**
 * Valid frames just under the size limit, each acked before the next is sent
 * (the padding is an ignored top-level field; only a tiny ephemeral patch is
 * applied and broadcast), until the 16 MiB byte burst runs out and the server
 * closes the session. Waiting for each ack keeps the flood from overshooting.
 */
async function byteFlood(client: WireClient, stats: FuzzStats): Promise<void> {
  for (let i = 0; i < 40 && client.ws.readyState === WebSocket.OPEN; i++) {
    const messageId = `b${i}`;
    const data = JSON.stringify({
      type: 'patch',
      messageId,
      pad: PAD,
      ephemeralPatches: [{ 'fuzz/B': { i } }],
    });
    const from = client.frames.length;
    sendFrame(client, { kind: 'byte-flood', data, binary: false, validity: 'valid' }, '', stats);
    await client
      .waitForFrame(`byte flood ${messageId}`, (f) => f.messageId === messageId, from)
      .catch(() => undefined); // the refused frame's answer is the close
  }
}
export const OVERSIZED = 'x'.repeat(MAX_FRAME_BYTES + 1);

/** Valid `reconnect` frames in a session's script. */
function reconnectsIn(plan: SessionPlan): number {
  let reconnects = 0;
  for (const frame of plan.frames) {
    if (typeof frame.data !== 'string' || frame.validity === 'invalid') continue;
    try {
      if ((JSON.parse(frame.data) as { type?: unknown }).type === 'reconnect') reconnects++;
    } catch {
      // Not JSON: not a reconnect.
    }
  }
  return reconnects;
}

/** Runs one fuzz session's script and checks what the server answered (see the file comment). */
export async function runSession(server: ServerProcess, plan: SessionPlan, stats: FuzzStats): Promise<void> {
  const label = `session ${plan.index} in ${plan.roomId} ending ${plan.ending}`;
  stats.rooms.add(plan.roomId);
  const client = await server.connect(plan.roomId, plan.clientId);
  if (plan.waitReady) await client.waitForFrame(`${label}: clientCount`, (f) => f.type === 'clientCount');
  for (const frame of plan.frames) sendFrame(client, frame, plan.roomId, stats);
  if (plan.ending === 'vanish') {
    client.ws.terminate();
    count(stats.closes, 'vanished (client dropped TCP)');
    return;
  }
  // The marker is acked only after every earlier frame was handled (O1), so the answers are all in.
  const markerId = `end-${plan.index}`;
  sendFrame(
    client,
    {
      kind: 'end-marker',
      data: JSON.stringify({
        type: 'patch',
        messageId: markerId,
        ephemeralPatches: [{ 'fuzz/End': { i: plan.index } }],
      }),
      binary: false,
      validity: 'valid',
    },
    plan.roomId,
    stats,
  );
  let marker: Frame;
  try {
    marker = await client.waitForFrame(
      `${label}: the end marker's ack (the session must stay open: at most ${plan.frames.length} frames, 10 invalid)`,
      (f) => f.type === 'ack' && f.messageId === markerId,
    );
  } catch (error) {
    // B6: a session that asks for a second whole-document reply before reading the first is
    // cut as a slow consumer (4433 from the room, or a cut connection, 1006, from the transport).
    const code = client.closeInfo?.code;
    if ((code === 4433 || code === 1006) && reconnectsIn(plan) >= 2) {
      count(stats.closes, 'slow consumer (a second large reconnect reply queued)');
      return;
    }
    throw error;
  }
  const answers = client.frames.slice(0, client.frames.indexOf(marker) + 1);
  checkAnswers(plan, answers, label, stats);
  for (const frame of answers) {
    if (frame.type === 'ack' || frame.type === 'synced') learnClock(plan.roomId, frame.timestamp);
  }

  if (plan.ending === 'marker') {
    client.close(1000);
    await client.closed();
    count(stats.closes, 'normal (client closed)');
    return;
  }
  if (plan.ending === 'invalid-flood') {
    for (let i = 0; i < 11; i++) {
      sendFrame(
        client,
        { kind: 'invalid-flood', data: 'not json', binary: false, validity: 'invalid' },
        '',
        stats,
      );
    }
  } else if (plan.ending === 'oversized') {
    sendFrame(client, { kind: 'oversized', data: OVERSIZED, binary: false, validity: 'invalid' }, '', stats);
  } else if (plan.ending === 'bad-utf8') {
    const bytes = Buffer.from('{"type":"patch","messageId":"\xff\xfe"}', 'latin1');
    sendFrame(client, { kind: 'bad-utf8-text', data: bytes, binary: false, validity: 'invalid' }, '', stats);
  } else if (plan.ending === 'raw-garbage') {
    // Bytes that are no WebSocket frame at all, written under the ws framing.
    (client.ws as unknown as { _socket: Socket })._socket.write(plan.garbage);
    stats.framesSent++;
    stats.bytesSent += plan.garbage.length;
    count(stats.kinds, 'raw-garbage');
  } else if (plan.ending === 'rate-flood') {
    // Tiny valid frames far past the 100/s rate and its burst of 300.
    await floodUntilClosed(client, 'rate-flood', '{"type":"patch","messageId":"f"}', 500, 200, stats);
  } else {
    // Valid frames just under the size limit, past the 16 MiB byte burst.
    await byteFlood(client, stats);
  }
  const { code } = await client.closed();
  count(stats.closes, String(code));
  const expected = EXPECTED_CLOSE[plan.ending];
  if (!expected.includes(code)) stats.failures.push(`${label}: closed with ${code}, expected ${expected}`);
  stats.errorFrames += client.frames.slice(answers.length).filter((f) => f.type === 'error').length;
}

/**
 * The answers up to the end marker: every valid frame accepted (acked when it
 * must be), every invalid one refused with a documented code (the expected
 * one when certain), clocks in order (O2/O3).
 */
function checkAnswers(plan: SessionPlan, answers: Frame[], label: string, stats: FuzzStats): void {
  const errors = answers.filter((f) => f.type === 'error');
  stats.errorFrames += errors.length;
  stats.acks += answers.filter((f) => f.type === 'ack').length;
  const invalid = plan.frames.filter((f) => f.validity === 'invalid').length;
  const unknown = plan.frames.filter((f) => f.validity === 'unknown').length;
  if (errors.length < invalid || errors.length > invalid + unknown) {
    stats.failures.push(
      `${label}: ${errors.length} error frames for ${invalid} invalid and ${unknown} blind frames: ${JSON.stringify(errors).slice(0, 400)}`,
    );
  }
  const codes: Record<string, number> = {};
  for (const error of errors) {
    const code = String(error.code);
    count(codes, code);
    count(stats.errorCodes, code);
    if (!FRAME_ERROR_CODES.has(code) || typeof error.message !== 'string' || error.message === '') {
      stats.failures.push(`${label}: undocumented error frame ${JSON.stringify(error).slice(0, 200)}`);
    }
  }
  const expected: Record<string, number> = {};
  for (const frame of plan.frames) if (frame.expectedCode) count(expected, frame.expectedCode);
  for (const [code, n] of Object.entries(expected)) {
    if ((codes[code] ?? 0) < n) {
      stats.failures.push(`${label}: expected ${n} "${code}" errors, got ${JSON.stringify(codes)}`);
    }
  }
  const acked: Record<string, number> = {};
  for (const frame of answers) if (frame.type === 'ack') count(acked, String(frame.messageId));
  const mustAck: Record<string, number> = {};
  for (const frame of plan.frames) if (frame.ackId !== undefined) count(mustAck, frame.ackId);
  for (const [messageId, n] of Object.entries(mustAck)) {
    if ((acked[messageId] ?? 0) < n) {
      stats.failures.push(
        `${label}: valid write "${messageId.slice(0, 40)}" not acked (${acked[messageId] ?? 0}/${n})`,
      );
    }
  }
  const order = new ClockOrder();
  for (const frame of answers) order.feed(frame);
  for (const problem of order.problems) stats.failures.push(`${label}: clock order: ${problem}`);
}

/** How a malformed connect attempt ended: a close code after the upgrade, an HTTP status, or nothing. */
