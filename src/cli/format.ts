/** Plain-text rendering for the CLI's human output (--json bypasses all of this). */

/** A left-aligned table with an upper-case header; `empty` is printed instead when there are no rows. */
export function table(columns: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return empty;
  const all = [columns.map((c) => c.toUpperCase()), ...rows];
  const widths = columns.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  // The last column is not padded, so lines carry no trailing blanks.
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** `label: value` lines with the values aligned, for one record. */
export function fields(pairs: Array<[string, string]>, indent = ''): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${indent}${`${k}:`.padEnd(width)}  ${v}`).join('\n');
}

export const list = (values: readonly string[], none = '(none)') => (values.length ? values.join(', ') : none);
