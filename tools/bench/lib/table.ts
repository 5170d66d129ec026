// The benches' printed tables: counts with thousands separators, and
// Markdown rows whose numeric columns are right-aligned.

/** 12,345 for integers, one decimal otherwise. */
export function formatCount(n: number): string {
  const fixed = Number.isInteger(n) ? String(n) : n.toFixed(1);
  return fixed.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A Markdown table; columns from `firstNumeric` on are right-aligned. */
export function markdownTable(header: string[], rows: string[][], firstNumeric: number): string {
  const lines = [
    `| ${header.join(" | ")} |`,
    `|${header.map((h, i) => (i >= firstNumeric ? ` ${"-".repeat(Math.max(1, h.length - 1))}: ` : ` ${"-".repeat(h.length)} `)).join("|")}|`,
  ];
  for (const r of rows) lines.push(`| ${r.join(" | ")} |`);
  return lines.join("\n");
}
