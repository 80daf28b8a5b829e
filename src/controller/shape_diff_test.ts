import assert from "node:assert/strict";
import { describeDifferences } from "./shape_diff.ts";
import { parseParameters, volumeShape } from "./parameters.ts";

const FS1 = "10.0.0.1@tcp:/fs1";
const shape = (p: Record<string, string>) => volumeShape(parseParameters(p).params);

Deno.test("describeDifferences() names each differing parameter with both values", () => {
  const recorded = { capacityBytes: 1073741824, shape: shape({ source: FS1, pool: "fast" }) };
  const requested = {
    capacityBytes: 2147483648,
    shape: shape({ source: FS1, pool: "flash", stripeCount: "4", directoryMode: "0770" }),
  };
  assert.deepEqual(describeDifferences(recorded, requested), [
    'parameter "directoryMode": "2770" recorded, "0770" requested',
    'parameter "stripeCount": (not set) recorded, 4 requested',
    'parameter "pool": "fast" recorded, "flash" requested',
    "capacity 1073741824 recorded, 2147483648 requested",
  ]);
  assert.deepEqual(describeDifferences(recorded, recorded), []);
});

Deno.test("describeDifferences() skips what an older record did not keep", () => {
  const { directoryMode: _, gid: __, ...old } = shape({ source: FS1 });
  const requested = shape({ source: FS1, directoryMode: "0777", gid: "100" });
  assert.deepEqual(
    describeDifferences({ capacityBytes: 1, shape: old }, { capacityBytes: 1, shape: requested }),
    [],
  );
});
