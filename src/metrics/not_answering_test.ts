import assert from "node:assert/strict";
import { registerNotAnswering } from "./not_answering.ts";
import { Registry } from "./prom.ts";
import { gateKey } from "../mount/fs_gate.ts";
import { parseExposition } from "../../tests/support/prom_text.ts";

Deno.test("registerNotAnswering() shows since when each file system does not answer, and nothing once it does", async () => {
  const registry = new Registry();
  let hung = [
    {
      key: gateKey({ source: "10.0.0.1@tcp:/fs1", major: 0, minor: 44 }),
      since: new Date(2000_000),
    },
    {
      key: gateKey({ source: "10.0.0.1@tcp:/fs1", major: 0, minor: 47 }),
      since: new Date(1000_000),
    },
    {
      key: gateKey({ source: "10.0.0.2@tcp:/scratch", major: 0, minor: 45 }),
      since: new Date(3000_500),
    },
  ];
  registerNotAnswering(registry, { notAnswering: () => hung });
  const series = parseExposition(await registry.metrics());
  assert.equal(
    series.get('klustre_csi_lustre_not_answering_since_seconds{fs="fs1"}'),
    1000,
    "the earliest of fs1's two mounts",
  );
  assert.equal(series.get('klustre_csi_lustre_not_answering_since_seconds{fs="scratch"}'), 3000.5);
  hung = [];
  const after = parseExposition(await registry.metrics());
  assert.equal(
    [...after.keys()].filter((k) => k.startsWith("klustre_csi_lustre_not_answering")).length,
    0,
  );
});
