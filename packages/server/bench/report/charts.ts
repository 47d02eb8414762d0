/**
 * Charts of the benchmark report, drawn with Vega-Lite and rendered to SVG
 * headlessly by Vega (no canvas, no browser).
 */
import { writeFile } from 'node:fs/promises';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Colours of the three servers, the same in every chart. */
const SERVER_COLORS = {
  domain: ['ours', 'published', 'relay'],
  range: ['#1f77b4', '#ff7f0e', '#8c8c8c'],
};

/** Renders a Vega-Lite spec to an SVG file. */
export async function writeSvg(spec: TopLevelSpec, path: string): Promise<void> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    await writeFile(path, `${svg}\n`);
  } finally {
    view.finalize();
  }
}

/** One bar of a grouped bar chart. */
export interface GroupedDatum {
  group: string;
  series: string;
  seriesLabel: string;
  value: number;
  label: string;
  /** Optional facet (one small chart per facet value). */
  facet?: string;
}

interface GroupedOptions {
  title: string;
  subtitle?: string;
  yTitle: string;
  groupTitle: string;
  groupOrder: string[];
  /** Series ids and the colours of {@link SERVER_COLORS}. */
  seriesOrder: string[];
  seriesLabels: string[];
  facetOrder?: string[];
}

/** A grouped bar chart (groups on x, one coloured bar per series), optionally faceted into columns. */
export function groupedBars(data: GroupedDatum[], options: GroupedOptions): TopLevelSpec {
  const colorIndex = (id: string) => SERVER_COLORS.domain.indexOf(id);
  const layer = {
    height: 260,
    width: { step: 28 },
    encoding: {
      x: {
        field: 'group',
        type: 'nominal',
        sort: options.groupOrder,
        title: options.groupTitle,
        axis: { labelAngle: 0 },
      },
      xOffset: { field: 'series', type: 'nominal', sort: options.seriesOrder },
      y: { field: 'value', type: 'quantitative', title: options.yTitle },
    },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          color: {
            field: 'series',
            type: 'nominal',
            title: 'Server',
            scale: {
              domain: options.seriesOrder,
              range: options.seriesOrder.map((id) => SERVER_COLORS.range[colorIndex(id)] ?? '#333333'),
            },
            legend: { labelExpr: legendExpr(options.seriesOrder, options.seriesLabels), orient: 'bottom' },
          },
          tooltip: [
            { field: 'group', title: options.groupTitle },
            { field: 'seriesLabel', title: 'Server' },
            { field: 'label', title: options.yTitle },
          ],
        },
      },
      {
        mark: { type: 'text', dy: -6, fontSize: 9, angle: 0 },
        encoding: { text: { field: 'label' } },
      },
    ],
  };
  const title = options.subtitle ? { text: options.title, subtitle: options.subtitle } : options.title;
  if (options.facetOrder) {
    return {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title,
      data: { values: data },
      facet: { column: { field: 'facet', type: 'nominal', sort: options.facetOrder, title: null } },
      resolve: { scale: { y: 'independent' } },
      spec: layer,
      config: { font: 'sans-serif' },
    } as TopLevelSpec;
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: data },
    ...layer,
    config: { font: 'sans-serif' },
  } as TopLevelSpec;
}

/** A Vega expression turning series ids into their labels in a legend. */
function legendExpr(ids: string[], labels: string[]): string {
  return ids.reduceRight(
    (otherwise, id, index) =>
      `datum.value === ${JSON.stringify(id)} ? ${JSON.stringify(labels[index] ?? id)} : ${otherwise}`,
    'datum.value',
  );
}

/** Powers of ten around `values`, with room for the labels past the bars' ends. */
function logDomain(values: number[]): [number, number] {
  const low = Math.min(1, ...values) / 4;
  const high = Math.max(1, ...values) * 4;
  return [10 ** Math.floor(Math.log10(low)), 10 ** Math.ceil(Math.log10(high))];
}

/** A horizontal bar chart of labelled values. */
export function horizontalBars(
  data: Array<{ name: string; value: number; label: string; color?: string }>,
  options: { title: string; subtitle?: string; xTitle: string; log?: boolean; rule?: number },
): TopLevelSpec {
  const title = options.subtitle ? { text: options.title, subtitle: options.subtitle } : options.title;
  const layers: unknown[] = [
    {
      mark: { type: 'bar' },
      encoding: {
        // On a log scale bars start at 1 (no change), not at 0.
        ...(options.log ? { x2: { datum: 1 } } : {}),
        color: { field: 'color', type: 'nominal', scale: null },
        tooltip: [
          { field: 'name', title: 'Item' },
          { field: 'label', title: options.xTitle },
        ],
      },
    },
    // Labels past the end of each bar: right of it, or left of it for bars below 1 on a log scale.
    {
      ...(options.log ? { transform: [{ filter: 'datum.value >= 1' }] } : {}),
      mark: { type: 'text', align: 'left', dx: 4, fontSize: 10 },
      encoding: { text: { field: 'label' } },
    },
    ...(options.log
      ? [
          {
            transform: [{ filter: 'datum.value < 1' }],
            mark: { type: 'text', align: 'right', dx: -4, fontSize: 10 },
            encoding: { text: { field: 'label' } },
          },
        ]
      : []),
  ];
  if (options.rule !== undefined) {
    layers.push({
      mark: { type: 'rule', strokeDash: [4, 3], color: '#444444' },
      encoding: { x: { datum: options.rule }, y: null },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: { step: 22 },
    data: { values: data.map((d) => ({ ...d, color: d.color ?? '#1f77b4' })) },
    encoding: {
      y: { field: 'name', type: 'nominal', sort: null, title: null, axis: { labelLimit: 380 } },
      x: {
        field: 'value',
        type: 'quantitative',
        title: options.xTitle,
        ...(options.log ? { scale: { type: 'log', domain: logDomain(data.map((d) => d.value)) } } : {}),
      },
    },
    layer: layers,
    config: { font: 'sans-serif' },
  } as TopLevelSpec;
}
