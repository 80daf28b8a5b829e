/** The outcome of one doctor check, and how a report of them is printed. */

/** One check: passed or failed, what was seen, and for a failure what to do. */
export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  /** Set for a failure. */
  readonly fix?: string;
}

/** A passed check. */
export function pass(name: string, detail: string): CheckResult {
  return { name, ok: true, detail };
}

/** A failed check with the fix. */
export function fail(name: string, detail: string, fix: string): CheckResult {
  return { name, ok: false, detail, fix };
}

/** `PASS|FAIL <check>: <detail>` per check, each FAIL followed by `  fix: <fix>`. */
export function formatReport(results: readonly CheckResult[]): string {
  return results.map((r) => {
    const line = `${r.ok ? "PASS" : "FAIL"} ${r.name}: ${oneLine(r.detail)}\n`;
    return r.ok ? line : `${line}  fix: ${oneLine(r.fix ?? "")}\n`;
  }).join("");
}

function oneLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "").join(" ");
}
