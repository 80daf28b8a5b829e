import assert from "node:assert/strict";
import { parseQuantity } from "./quantity.ts";

Deno.test("parseQuantity() reads binary, decimal and exponent suffixes", () => {
  const cases: [string, number][] = [
    ["10Gi", 10 * 2 ** 30],
    ["1Ti", 2 ** 40],
    ["1.5T", 1.5e12],
    ["500M", 5e8],
    ["1000", 1000],
    ["1e3", 1000],
    ["1E3", 1000],
    ["2E", 2e18],
    [".5Ki", 512],
    ["-1Gi", -(2 ** 30)],
    ["100m", 0.1],
  ];
  for (const [text, value] of cases) assert.equal(parseQuantity(text), value, text);
});

Deno.test("parseQuantity() refuses what Kubernetes refuses", () => {
  for (const text of ["10 Gi", "10GB", "10gi", "Gi", "", "1.2.3", "10Gi ", "0x10", "1e"]) {
    assert.throws(() => parseQuantity(text), SyntaxError, text);
  }
});
