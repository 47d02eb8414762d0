/** The target of the server load benchmark, evaluated on the aggregates. */
import type { ServerKind } from './children.js';
import { int, num, percent, ratio } from './format.js';
import type { Aggregate, TargetResult } from './results.js';
import { SCENARIOS, TARGET } from './scenarios.js';

/** The aggregate of `server` in `scenario`; throws when it is missing. */
export function findAggregate(aggregates: Aggregate[], scenario: string, server: ServerKind): Aggregate {
  const found = aggregates.find((a) => a.scenario === scenario && a.server === server);
  if (!found) throw new Error(`no result for ${server} in ${scenario}`);
  return found;
}

/** Compares ours with published in the target scenario. */
export function evaluateTarget(aggregates: Aggregate[]): TargetResult {
  const ours = findAggregate(aggregates, TARGET.scenario, 'ours');
  const published = findAggregate(aggregates, TARGET.scenario, 'published');
  const deliveriesRatio = ours.deliveriesPerSec / published.deliveriesPerSec;
  const cpuRatio = ours.cpuUsPerDelivery / published.cpuUsPerDelivery;
  const deliveriesPass = deliveriesRatio >= TARGET.minDeliveriesRatio;
  const cpuPass = cpuRatio <= TARGET.maxCpuRatio;
  return {
    scenario: TARGET.scenario,
    pass: deliveriesPass && cpuPass,
    deliveriesPass,
    cpuPass,
    oursDeliveriesPerSec: ours.deliveriesPerSec,
    publishedDeliveriesPerSec: published.deliveriesPerSec,
    deliveriesRatio,
    minDeliveriesRatio: TARGET.minDeliveriesRatio,
    oursCpuUsPerDelivery: ours.cpuUsPerDelivery,
    publishedCpuUsPerDelivery: published.cpuUsPerDelivery,
    cpuRatio,
    maxCpuRatio: TARGET.maxCpuRatio,
  };
}

/** The target as markdown list lines. */
export function targetLines(target: TargetResult): string[] {
  const scenario = SCENARIOS.find((s) => s.id === target.scenario)?.label ?? target.scenario;
  return [
    `- **${target.pass ? 'PASS' : 'FAIL'}**: in the ${scenario} scenario, ours delivers >= ${target.minDeliveriesRatio}x the published server's deliveries/s at <= ${percent(target.maxCpuRatio)} of its CPU per delivery, while persisting to SQLite.`,
    `  - ${target.deliveriesPass ? 'PASS' : 'FAIL'} deliveries/s: ours ${int(target.oursDeliveriesPerSec)} vs published ${int(target.publishedDeliveriesPerSec)} = ${ratio(target.deliveriesRatio)} (target >= ${target.minDeliveriesRatio}x)`,
    `  - ${target.cpuPass ? 'PASS' : 'FAIL'} CPU per delivery: ours ${num(target.oursCpuUsPerDelivery, 2)} µs vs published ${num(target.publishedCpuUsPerDelivery, 2)} µs = ${percent(target.cpuRatio)} of published (target <= ${percent(target.maxCpuRatio)})`,
  ];
}
