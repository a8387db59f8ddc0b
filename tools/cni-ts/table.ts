/** Plain-text output for people: aligned columns, colour only when `colour` (stdout is a terminal). */
export interface Style {
  bold(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
}

const paint = (code: number) => (text: string) => `\u001b[${code}m${text}\u001b[0m`;
export const styles = (colour: boolean): Style =>
  colour ? { bold: paint(1), red: paint(31), yellow: paint(33), green: paint(32) } : { bold: (t) => t, red: (t) => t, yellow: (t) => t, green: (t) => t };

// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape sequences of our own colours
const visibleLength = (text: string) => text.replace(/\u001b\[\d+m/g, '').length;

/** Rows of cells, each column as wide as its widest cell; a cell with several lines spreads over rows. */
export function table(header: string[], rows: string[][], style: Style): string[] {
  const expanded = rows.flatMap((row) => {
    const height = Math.max(1, ...row.map((cell) => cell.split('\n').length));
    return Array.from({ length: height }, (_, i) => row.map((cell) => cell.split('\n')[i] ?? ''));
  });
  const widths = header.map((h, c) => Math.max(h.length, ...expanded.map((r) => visibleLength(r[c]))));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => cell + ' '.repeat(widths[c] - visibleLength(cell)))
      .join('  ')
      .trimEnd();
  return [style.bold(line(header)), ...expanded.map(line)];
}
