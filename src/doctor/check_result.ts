/** The outcome of one doctor check, and how a report of them is printed. */

/** One check: passed, failed or skipped, what was seen, and for a failure what to do. */
export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  /** Not run because something it needs failed an earlier check (ok is false, not a failure). */
  readonly skipped?: boolean;
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

/** A check not run because what it needs is missing: `needs` names it, e.g. "lctl". */
export function skip(name: string, needs: string, because: string): CheckResult {
  return { name, ok: false, skipped: true, detail: `needs ${needs}: ${because}` };
}

/** True when a check failed (a skipped one did not). */
export function failed(result: CheckResult): boolean {
  return !result.ok && !result.skipped;
}

/**
 * `PASS|FAIL|SKIP <check>: <detail>` per check, each FAIL followed by
 * `  fix: <fix>`.
 */
export function formatReport(results: readonly CheckResult[]): string {
  return results.map((r) => {
    const status = r.ok ? "PASS" : r.skipped ? "SKIP" : "FAIL";
    const line = `${status} ${r.name}: ${oneLine(r.detail)}\n`;
    return failed(r) ? `${line}  fix: ${oneLine(r.fix ?? "")}\n` : line;
  }).join("");
}

function oneLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "").join(" ");
}
