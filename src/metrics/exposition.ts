/**
 * The Prometheus text exposition format (version 0.0.4): HELP and TYPE
 * lines, then one line per sample, with escaped label values.
 */
import type { Labels, MetricFamily } from "./registry.ts";

/** The Content-Type of a scrape answer. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Formats one family: `# HELP`, `# TYPE` and its samples, each line ending in "\n". */
export function formatFamily(family: MetricFamily): string {
  const lines = [
    `# HELP ${family.name} ${escapeHelp(family.help)}`,
    `# TYPE ${family.name} ${family.type}`,
    ...family.samples().map((s) => `${s.name}${formatLabels(s.labels)} ${formatValue(s.value)}`),
  ];
  return lines.join("\n") + "\n";
}

/** `{a="1",b="2"}`, or "" without labels. */
export function formatLabels(labels: Labels): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

/** Escapes backslash, double quote and newline, as the format requires. */
export function escapeLabelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** Escapes backslash and newline in HELP text. */
export function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

/** Numbers as Prometheus reads them: +Inf, -Inf, NaN or a plain number. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
