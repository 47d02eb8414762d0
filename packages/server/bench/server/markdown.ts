/** The markdown report of the server load benchmark (results/server.md). */
import type { ServerKind } from './children.js';
import { int, ms, num, percent, ratio, table } from './format.js';
import type { ServerBenchJson } from './results.js';
import { SCENARIOS, SERVERS } from './scenarios.js';
import { findAggregate, targetLines } from './target.js';

function serverLabel(id: ServerKind): string {
  return SERVERS.find((s) => s.id === id)?.label ?? id;
}

function scenarioLabel(id: string): string {
  return SCENARIOS.find((s) => s.id === id)?.label ?? id;
}

/** Renders the whole report from the result file's contents. */
export function renderMarkdown(json: ServerBenchJson): string {
  const { machine } = json;
  const out: string[] = [];
  out.push('# Server load benchmark: ours vs published vs bare relay', '');
  out.push(`- Date: ${json.date}`);
  out.push(`- Node: ${machine.node} (${machine.platform})`);
  out.push(`- CPU: ${machine.cpuModel} x ${machine.cores}, ${machine.totalMemGiB} GiB RAM`);
  out.push(
    `- Source: ${json.source.commit || 'unknown commit'}${json.source.uncommittedSrc.length > 0 ? `, with uncommitted changes in ${json.source.uncommittedSrc.join(', ')}` : ''} (our server is built from the working tree)`,
  );
  out.push(
    `- Run time: ${num(json.runSeconds, 1)} s; 1-minute load average ${num(machine.loadavgStart, 2)} at start, ${num(machine.loadavgEnd, 2)} at end`,
  );
  out.push(
    `- Load: closed loop, ${json.config.rounds} rounds per server and scenario (servers' order rotated per round), each ${json.config.warmupMs / 1000} s warm-up + ${json.config.windowMs / 1000} s measured; every number below is the median of the rounds (spread under Rounds)`,
  );
  out.push(
    `- **The load generator and the server share this machine's ${machine.cores} cores** (plus whatever else runs on it), so a server that spends less CPU also leaves more CPU to the clients; absolute rates are lower than on a dedicated server.`,
    '',
  );

  out.push(
    table(
      [
        'Scenario',
        'Server',
        'Deliveries/s',
        'Acks/s',
        'p50 ack (ms)',
        'p99 ack (ms)',
        'Server CPU µs/delivery',
        'Server CPU',
        'Load-gen CPU',
      ],
      json.aggregates.map((a) => [
        scenarioLabel(a.scenario),
        serverLabel(a.server),
        int(a.deliveriesPerSec),
        int(a.acksPerSec),
        ms(a.p50Ms),
        ms(a.p99Ms),
        num(a.cpuUsPerDelivery, 2),
        percent(a.serverCpuShare),
        percent(a.clientCpuShare),
      ]),
      ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
    '',
  );
  out.push(
    'Deliveries: broadcast `patch` frames received by the clients. Server CPU µs/delivery: user + system CPU time of the server process (all its threads, /proc/<pid>/stat) over the window, divided by the deliveries in the window. CPU columns: CPU time / wall time (100% = one core). A server below 100% is not necessarily idle: "Server waits for CPU" (under Rounds) is the share of the window its main thread was runnable but waiting for a core (/proc/<pid>/schedstat), i.e. CPU-bound but sharing the machine.',
    '',
  );

  out.push('## Target', '', ...targetLines(json.target), '');

  out.push('## Ours relative to the others', '');
  out.push(
    table(
      [
        'Scenario',
        'Deliveries/s vs published',
        'CPU/delivery vs published',
        'p99 ack vs published',
        'Deliveries/s vs relay',
        'CPU/delivery vs relay',
      ],
      json.scenarios.map((s) => {
        const ours = findAggregate(json.aggregates, s.id, 'ours');
        const published = findAggregate(json.aggregates, s.id, 'published');
        const relay = findAggregate(json.aggregates, s.id, 'relay');
        return [
          s.label,
          ratio(ours.deliveriesPerSec / published.deliveriesPerSec),
          percent(ours.cpuUsPerDelivery / published.cpuUsPerDelivery),
          ratio(ours.p99Ms / published.p99Ms),
          ratio(ours.deliveriesPerSec / relay.deliveriesPerSec),
          percent(ours.cpuUsPerDelivery / relay.cpuUsPerDelivery),
        ];
      }),
      ['left', 'right', 'right', 'right', 'right', 'right'],
    ),
    '',
  );

  out.push('## Rounds', '');
  out.push(
    table(
      [
        'Scenario',
        'Server',
        'Round',
        'Window (s)',
        'Deliveries/s',
        'Acks/s',
        'Fan-out',
        'p50 (ms)',
        'p99 (ms)',
        'µs/delivery',
        'Server CPU',
        'of it in kernel',
        'Load-gen CPU',
        'Server waits for CPU',
        'Load avg',
        'Data after stop',
        'Problems',
      ],
      json.runs.map((r) => [
        scenarioLabel(r.scenario),
        serverLabel(r.server),
        String(r.round),
        num(r.windowMs / 1000, 2),
        int(r.deliveriesPerSec),
        int(r.acksPerSec),
        num(r.fanout, 2),
        ms(r.p50Ms),
        ms(r.p99Ms),
        num(r.cpuUsPerDelivery, 2),
        percent(r.serverCpuShare),
        percent(r.serverSystemShare),
        percent(r.clientCpuShare),
        percent(r.serverWaitShare),
        num(r.loadavg, 2),
        r.server === 'relay' ? 'n/a' : `${int(r.dataBytes / 1024)} KiB`,
        r.problems.length > 0 ? r.problems.join('; ') : 'none',
      ]),
      [
        'left',
        'left',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'left',
      ],
    ),
    '',
  );

  out.push('## Servers', '');
  for (const s of json.servers) out.push(`- **${s.label}**: ${s.description}.`);
  out.push('');
  out.push('## Method', '');
  out.push(
    '- Every server is a child process of its own, started fresh (new data directory) for every scenario and round with `--port 0` on 127.0.0.1; its port is read from /proc. It is stopped gracefully (SIGTERM) after each run; "Data after stop" is the size of its data directory then (ours: rooms.db with its WAL; published: the room JSON files).',
    '- The load generator is another child process (bench/server/load-client.ts, raw `ws` clients, no permessage-deflate). Each client sends `reconnect` and waits for `synced`; once all are connected, each runs a closed loop: one `patch` of one component (`{"<client>-<n mod 8>/Shape":{"_exists":true,"x":n,"y":n}}`), wait for its `ack`, send the next. Clients count the broadcast `patch` frames they receive (classified by their first bytes, not parsed) and time each ack (send to ack).',
    "- The window's counters, the server's CPU time (/proc/<pid>/stat utime + stime, 10 ms ticks) and the load generator's CPU time (process.cpuUsage()) are read in the load generator at the same instant at the start and at the end of the window. Latency percentiles are over every ack of the window.",
    "- Fan-out = deliveries / acks; with every write broadcast to the rest of the room it is clients per room - 1 (small deviations come from frames in flight at the window's edges).",
    '- Our server is the built CLI (`npm run build`), so it includes everything it runs in production: JSON logs (warn level), Prometheus counters per frame, heartbeats, rate-limit token buckets (raised, still evaluated), validation, the clocked document, the commit pipeline and the per-iteration write batching.',
    '',
  );

  for (const p of json.profiles) {
    out.push(`## Profile of our server: ${scenarioLabel(p.scenario)}`, '');
    out.push(
      `Profiled because ${p.reason}. \`node --cpu-prof --cpu-prof-interval 500\` on our server's process during one extra run of the scenario (not part of the numbers above; the profiler slows it: this run made ${int(p.run.deliveriesPerSec)} deliveries/s at ${num(p.run.cpuUsPerDelivery, 2)} µs/delivery). ${p.windowed ? 'Only the samples of the measurement window are counted' : 'The window could not be matched to the profile clock, so the whole process life (start-up, connect, warm-up, window, shutdown) is counted'}: ${int(p.durationMs)} ms sampled, ${int(p.busyMs)} ms of it not idle on the JS thread ("busy"; includes time the thread was runnable but descheduled), of which ${int(p.gcMs)} ms in GC and ${int(p.oursMs)} ms self time in our src/. Inclusive = the function and everything it called. The whole profile is in [${p.file}](${p.file}) (Chrome DevTools > Performance > Load profile).`,
      '',
    );
    out.push('### Self time by function', '');
    out.push(
      table(
        ['Function', 'Location', 'Self (ms)', 'Self % of busy', 'Inclusive (ms)'],
        p.topSelf.map((e) => [
          `\`${e.name}\``,
          e.location,
          num(e.selfMs, 1),
          percent(e.selfMs / p.busyMs),
          num(e.totalMs, 1),
        ]),
        ['left', 'left', 'right', 'right', 'right'],
      ),
      '',
    );
    out.push('### Our functions (src/) by inclusive time', '');
    out.push(
      table(
        ['Function', 'Location', 'Inclusive (ms)', '% of busy', 'Self (ms)'],
        p.topOursInclusive.map((e) => [
          `\`${e.name}\``,
          e.location,
          num(e.totalMs, 1),
          percent(e.totalMs / p.busyMs),
          num(e.selfMs, 1),
        ]),
        ['left', 'left', 'right', 'right', 'right'],
      ),
      '',
    );
    out.push('### Self time by file or module', '');
    out.push(
      table(
        ['File / module', 'Self (ms)', '% of busy'],
        p.byFile.map((e) => [e.location, num(e.selfMs, 1), percent(e.selfMs / p.busyMs)]),
        ['left', 'right', 'right'],
      ),
      '',
    );
  }
  return out.join('\n');
}
