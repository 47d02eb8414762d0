/**
 * The round-robin proxy of `npm run cluster` (issue 14): WebSocket upgrades
 * and HTTP requests go to the nodes in turn, frames pass both ways, and a
 * node that is down is skipped. Plain single-node servers stand in for the
 * nodes here: this is about the proxy, not the cluster.
 */
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRoundRobinProxy } from '../../scripts/cluster/round-robin-proxy.js';
import { freePort } from '../harness/free-port.js';
import { cleanup, metric, ServerProcess, WireClient, waitUntil } from '../harness/server-process.js';

describe('round-robin proxy of npm run cluster (K1 demo)', () => {
  let nodes: ServerProcess[];
  let proxy: Server;
  let proxyPort: number;
  let downPort: number;

  beforeAll(async () => {
    nodes = [
      await ServerProcess.start({ args: ['--storage', 'memory'] }),
      await ServerProcess.start({ args: ['--storage', 'memory'] }),
    ];
    downPort = await freePort();
    const targets = [...nodes.map((node) => ({ host: '127.0.0.1', port: node.port }))];
    targets.splice(1, 0, { host: '127.0.0.1', port: downPort });
    proxy = await startRoundRobinProxy(targets, 0);
    const address = proxy.address();
    proxyPort = typeof address === 'object' && address !== null ? address.port : 0;
  });
  afterAll(async () => {
    proxy.closeAllConnections();
    proxy.close();
    await cleanup();
  });

  it('K1 demo: upgrades alternate between live nodes, skip a dead one, and carry frames both ways', async () => {
    const url = (clientId: string) =>
      `ws://127.0.0.1:${proxyPort}/?${new URLSearchParams({ roomId: 'proxy-room', clientId, token: 't' })}`;
    const clients: WireClient[] = [];
    for (let i = 0; i < 4; i++) {
      const client = await WireClient.connect(url(`c${i}`));
      const { synced } = await client.sync(0);
      expect(synced.type).toBe('synced');
      const ack = await client.write([{ [`k${i}`]: { _exists: true, v: i } }]);
      expect(ack.type).toBe('ack');
      clients.push(client);
    }
    // Four upgrades over [node0, down, node1]: each live node got two of them.
    for (const node of nodes) {
      await waitUntil('two connections on each node', async () => {
        return metric(await node.metrics(), 'canvas_connections') === 2;
      });
    }
    for (const client of clients) client.close();
  });

  it('K1 demo: plain HTTP requests reach a node (the whiteboard page, /healthz)', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`http://127.0.0.1:${proxyPort}/healthz`);
      expect(response.status).toBe(200);
    }
    const page = await fetch(`http://127.0.0.1:${proxyPort}/`);
    expect(page.status).toBe(200);
    const direct = await nodes[0]?.get('/');
    expect(await page.text()).toBe(direct?.text);
  });
});
