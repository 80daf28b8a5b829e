import assert from "node:assert/strict";
import {
  escapeHelp,
  escapeLabelValue,
  formatFamily,
  formatLabels,
  formatValue,
} from "./exposition.ts";
import { Counter } from "./registry.ts";

Deno.test("formatFamily() writes HELP, TYPE and one line per series", () => {
  const counter = new Counter("ops_total", "Calls served", ["method", "code"]);
  counter.inc({ method: "NodePublishVolume", code: "OK" });
  counter.inc({ method: "NodePublishVolume", code: "ABORTED" }, 2);
  assert.equal(
    formatFamily(counter),
    [
      "# HELP ops_total Calls served",
      "# TYPE ops_total counter",
      'ops_total{method="NodePublishVolume",code="OK"} 1',
      'ops_total{method="NodePublishVolume",code="ABORTED"} 2',
      "",
    ].join("\n"),
  );
});

Deno.test("escapeLabelValue() escapes backslash, quote and newline", () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.equal(formatLabels({ x: '"' }), '{x="\\""}');
  assert.equal(formatLabels({}), "");
});

Deno.test("escapeHelp() escapes backslash and newline only", () => {
  assert.equal(escapeHelp('a\\b\n"c"'), 'a\\\\b\\n"c"');
});

Deno.test("formatValue() writes infinities and NaN as Prometheus reads them", () => {
  const cases: [number, string][] = [[1, "1"], [0.25, "0.25"], [Infinity, "+Inf"], [
    -Infinity,
    "-Inf",
  ], [NaN, "NaN"]];
  for (const [value, text] of cases) assert.equal(formatValue(value), text);
});
