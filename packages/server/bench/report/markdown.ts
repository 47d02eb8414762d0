/** Reading the benchmarks' markdown result files. */

/** A markdown table: its header cells and body rows. */
interface MarkdownTable {
  headers: string[];
  rows: string[][];
}

function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((cell) => cell.trim());
}

/** Every table of a markdown document. */
export function parseTables(markdown: string): MarkdownTable[] {
  const tables: MarkdownTable[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const header = lines[i] ?? '';
    const rule = lines[i + 1] ?? '';
    if (!header.trim().startsWith('|') || !/^\s*\|[\s:|-]+\|\s*$/.test(rule)) continue;
    const table: MarkdownTable = { headers: cells(header), rows: [] };
    let j = i + 2;
    for (; j < lines.length && (lines[j] ?? '').trim().startsWith('|'); j++)
      table.rows.push(cells(lines[j] ?? ''));
    tables.push(table);
    i = j - 1;
  }
  return tables;
}

/** The first table with a column matching each pattern, and those columns' indexes. */
export function findTable(
  tables: MarkdownTable[],
  patterns: RegExp[],
): { table: MarkdownTable; columns: number[] } | null {
  for (const table of tables) {
    const columns = patterns.map((pattern) => table.headers.findIndex((header) => pattern.test(header)));
    if (columns.every((column) => column !== -1)) return { table, columns };
  }
  return null;
}

/** The leading number of a cell (`12,345`, `0.018 ms`, `9.51e-4`), or NaN. */
export function leadingNumber(cell: string): number {
  const match = /^[-+]?[\d,]*\.?\d+(?:e[-+]?\d+)?/i.exec(cell.trim());
  return match ? Number(match[0].replaceAll(',', '')) : Number.NaN;
}

/** Demotes every heading by one level, so a result file nests under a report section. */
export function demoteHeadings(markdown: string): string {
  let fenced = false;
  return markdown
    .split('\n')
    .map((line) => {
      if (line.startsWith('```')) fenced = !fenced;
      return !fenced && /^#{1,5} /.test(line) ? `#${line}` : line;
    })
    .join('\n');
}
