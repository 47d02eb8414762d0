/**
 * A small round-robin HTTP and WebSocket proxy for the cluster demo
 * (`npm run cluster`): each request and each WebSocket upgrade goes to the
 * next node in turn, the way a plain load balancer without room affinity
 * would. The cluster must work behind it: any node serves any room (K1).
 * A node that refuses the connection is skipped for that request.
 */
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** A node the proxy forwards to. */
export interface ProxyTarget {
  host: string;
  port: number;
}

/** The raw HTTP/1.1 request head of an upgrade, to replay to the chosen node. */
function requestHead(req: IncomingMessage): string {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Starts the proxy on `port` (0: a free one) of `host` over `targets` (a list, or a function read per connection); resolves once it listens. */
export function startRoundRobinProxy(
  targets: readonly ProxyTarget[] | (() => readonly ProxyTarget[]),
  port: number,
  host = '127.0.0.1',
): Promise<Server> {
  let next = 0;
  // A function lets the caller change the node list (nodes added, stopped or paused).
  const current = typeof targets === 'function' ? targets : () => targets;
  const order = (): ProxyTarget[] => {
    const list = current();
    if (list.length === 0) return [];
    const start = next++ % list.length;
    return [...list.slice(start), ...list.slice(0, start)];
  };

  const server = createServer((req, res) => {
    const tryTarget = (remaining: ProxyTarget[]): void => {
      const target = remaining[0];
      if (!target) {
        res.writeHead(502).end('no node answered\n');
        return;
      }
      const upstream = request(
        { host: target.host, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (reply) => {
          res.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(res);
        },
      );
      upstream.once('error', () => {
        if (!res.headersSent) tryTarget(remaining.slice(1));
        else res.destroy();
      });
      req.pipe(upstream);
    };
    tryTarget(order());
  });

  server.on('upgrade', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    client.on('error', () => {});
    const tryTarget = (remaining: ProxyTarget[]): void => {
      const target = remaining[0];
      if (!target) {
        client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n');
        return;
      }
      const upstream: Socket = connect(target.port, target.host);
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        upstream.write(requestHead(req));
        if (head.length > 0) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
        // Only a connected upstream ties its end to the client's: a refused one moves on to the next node.
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
      });
      upstream.on('error', () => {
        if (!connected) tryTarget(remaining.slice(1));
        else client.destroy();
      });
    };
    tryTarget(order());
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
