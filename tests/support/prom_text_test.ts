import assert from "node:assert/strict";
import { parseExposition } from "./prom_text.ts";

Deno.test("parseExposition() reads samples whatever the label order", () => {
  const samples = parseExposition(
    [
      "# HELP d_seconds D, with \\\\ and \\n",
      "# TYPE d_seconds histogram",
      'd_seconds_bucket{le="+Inf",m="a\\"b"} 3',
      'd_seconds_sum{m="a\\"b"} 0.5',
      "",
      "# TYPE up gauge",
      "up 1",
      "",
    ].join("\n"),
  );
  assert.equal(samples.get('d_seconds_bucket{m="a\\"b",le="+Inf"}'), 3);
  assert.equal(samples.get('d_seconds_sum{m="a\\"b"}'), 0.5);
  assert.equal(samples.get("up"), 1);
  assert.equal(samples.types.get("d_seconds"), "histogram");
});

Deno.test("parseExposition() refuses what is not the text format", () => {
  const bad = [
    "up 1", // before its TYPE
    "# TYPE up gauge\nup one",
    '# TYPE up gauge\nup{a="1} 1',
    "# TYPE up gauge\n# TYPE up gauge",
    "# TYPE up meter",
    "just text",
  ];
  for (const text of bad) assert.throws(() => parseExposition(text), Error, text);
});
