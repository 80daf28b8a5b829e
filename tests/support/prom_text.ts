/**
 * A strict reader of the Prometheus text format (0.0.4) for tests: it
 * refuses any line that is not a HELP, TYPE, blank or sample line, and keys
 * samples by a canonical series text (label names sorted) so a test can ask
 * for `x{method="A",le="+Inf"}` whatever order the exposition writes.
 */

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = `([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`;
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?,?\\})? (\\S+)$`);
const HELP = new RegExp(`^# HELP (${NAME}) (?:[^\\\\\\n]|\\\\[\\\\n])*$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)|[+-]Inf|NaN)$/i;

/** Samples by canonical series text; `get()` canonicalizes its argument too. */
export class Samples extends Map<string, number> {
  /** Families by name, with their declared type. */
  readonly types = new Map<string, string>();

  override get(series: string): number | undefined {
    return super.get(canonical(series));
  }
}

/**
 * Every sample of an exposition.
 * @throws Error naming the first line that is not the text format, a sample
 *   before its family's TYPE, or a family declared twice
 */
export function parseExposition(text: string): Samples {
  const samples = new Samples();
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (const [index, line] of lines.entries()) {
    const where = `line ${index + 1}: ${JSON.stringify(line)}`;
    if (line === "") continue;
    if (line.startsWith("# HELP ")) {
      if (!HELP.test(line)) throw new Error(`Not a HELP line, ${where}`);
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const match = TYPE.exec(line);
      if (!match) throw new Error(`Not a TYPE line, ${where}`);
      if (samples.types.has(match[1])) throw new Error(`Family declared twice, ${where}`);
      samples.types.set(match[1], match[2]);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match || !VALUE.test(match.at(-1)!)) throw new Error(`Not a sample line, ${where}`);
    const family = familyOf(match[1], samples.types);
    if (family === undefined) throw new Error(`Sample before its TYPE, ${where}`);
    const series = canonical(line.slice(0, line.lastIndexOf(" ")));
    samples.set(series, Number(match.at(-1)!.replace(/^\+Inf$/i, "Infinity")));
  }
  return samples;
}

/** The declared family a sample name belongs to (histograms add suffixes). */
function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  return types.get(base) === "histogram" || types.get(base) === "summary" ? base : undefined;
}

/** `name{b="2",a="1"}` as `name{a="1",b="2"}`. */
function canonical(series: string): string {
  const brace = series.indexOf("{");
  if (brace < 0) return series;
  const pairs = [...series.slice(brace + 1, -1).matchAll(new RegExp(LABEL, "g"))]
    .map((m) => `${m[1]}="${m[2]}"`)
    .sort();
  return pairs.length === 0
    ? series.slice(0, brace)
    : `${series.slice(0, brace)}{${pairs.join(",")}}`;
}
