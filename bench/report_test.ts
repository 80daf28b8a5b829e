import assert from "node:assert/strict";
import {
  type BenchResults,
  comparisonOf,
  formatComparison,
  formatMarkdown,
  formatTable,
} from "./report.ts";

const latency = { n: 100, p50Ms: 4.2, p99Ms: 9.5, maxMs: 12, meanMs: 5 };

const RESULTS: BenchResults = {
  generatedAt: "2026-01-01T00:00:00.000Z",
  environment: {
    target: "Lustre simulator",
    cpus: 2,
    cpuModel: "Test CPU",
    kernel: "6.1.0",
    deno: "2.9.6",
    driverVersion: "0.1.0",
  },
  settings: { samples: 100, concurrency: 32, rounds: 4, pods: 200, startupRuns: 3 },
  startup: { coldMs: 900, runsMs: [410, 400, 420], medianMs: 410 },
  memory: {
    idleRssMiB: 80.5,
    stormPeakRssMiB: 96.1,
    afterStormRssMiB: 90,
    idleThreads: 12,
    afterStormThreads: 40,
  },
  sequential: { publish: latency, unpublish: latency, errors: 0 },
  concurrent: { publish: latency, unpublish: latency, errors: 1, firstError: "x" },
  storm: {
    pods: 200,
    wallMs: 2100,
    stageMs: 90,
    publish: latency,
    lustreMounts: 1,
    errors: 0,
    peakRssKiB: 98406,
    rssSamples: 99,
    teardownMs: 1500,
    teardownErrors: 0,
  },
  totalSeconds: 42,
};

Deno.test("formatMarkdown() writes one table row per measure", () => {
  const text = formatMarkdown(RESULTS);
  const rows = text.split("\n").filter((l) => /^\| (?!Measure|-)/.test(l)).map((l) =>
    l.replace(/ +\|/g, " |")
  );
  assert.equal(rows.length, 16);
  assert.ok(
    rows.includes("| NodePublishVolume p50 / p99, sequential (n=100) | 4.2 / 9.5 ms (max 12) |"),
  );
  assert.ok(rows.includes("| Publish storm: Lustre mounts made | 1 |"));
  assert.ok(rows.includes("| Errors in the latency runs | 1 |"));
  assert.ok(
    rows.includes(
      "| Process start to Probe ready, median of 3 | 410 ms (runs: 410, 400, 420; warm-up 900) |",
    ),
  );
  assert.match(text, /^# klustre-csi benchmark\n/);
});

Deno.test("formatMarkdown() shows the idle memory with the keeper namespace when it was measured", () => {
  const text = formatMarkdown({
    ...RESULTS,
    memory: { ...RESULTS.memory, keeperIdleRssMiB: 73.7 },
  });
  assert.match(text, /idle with the keeper namespace \(the DaemonSet's form\) *\| 73\.7 MiB/);
  assert.doesNotMatch(formatMarkdown(RESULTS), /keeper namespace/, "older results have none");
});

Deno.test("formatTable() pads every column to its widest cell", () => {
  assert.deepEqual(formatTable(["A", "Result"], [["long cell", "1"], ["x", "22"]]), [
    "| A         | Result |",
    "| --------- | ------ |",
    "| long cell | 1      |",
    "| x         | 22     |",
  ]);
});

Deno.test("formatComparison() compares publish p50 and storm wall time with the previous run", () => {
  const previous = comparisonOf({
    ...RESULTS,
    sequential: { ...RESULTS.sequential, publish: { ...latency, p50Ms: 8.4 } },
    storm: { ...RESULTS.storm, wallMs: 1050 },
  });
  const lines = formatComparison({ ...RESULTS, previous });
  assert.ok(lines.includes("Sequential publish p50: 4.2 ms (previous 8.4 ms, -50%)"), lines[0]);
  assert.ok(lines.includes("200-pod storm wall time: 2100 ms (previous 1050 ms, +100%)"), lines[1]);
  assert.match(formatMarkdown({ ...RESULTS, previous }), /Compared with the previous results/);
  assert.deepEqual(formatComparison(RESULTS), []);
});

Deno.test("formatMarkdown() reports the stats run: both passes, lfs runs, memory", () => {
  const pass = { wallMs: 900, latency, cpuSeconds: 0.4, errors: 0, abnormal: 0 };
  const text = formatMarkdown({
    ...RESULTS,
    statsScale: {
      volumes: 500,
      concurrency: 32,
      setupMs: 20000,
      cold: { ...pass, wallMs: 20000 },
      warm: pass,
      warmSequential: { ...pass, wallMs: 1000 },
      grpcFloor: { ...pass, wallMs: 300 },
      rssMiB: 91.2,
      lfsCalls: 500,
      maxLfsPerVolume: 1,
    },
  });
  assert.match(
    text,
    /NodeGetVolumeStats of 500 volumes, 32 at once, warm.*\| 900 ms, 4\.2 \/ 9\.5 ms/,
  );
  assert.match(text, /NodeGetVolumeStats of 500 volumes, 32 at once, cold.*\| 20000 ms/);
  assert.match(text, /NodeGetVolumeStats of 500 volumes, 1 at once, warm.*\| 1000 ms/);
  assert.match(text, /GetPluginInfo .*500 calls, 32 at once.*\| 300 ms, 4\.2 \/ 9\.5 ms/);
  assert.match(text, /lfs runs over all passes \(most for one volume\) *\| 500 \(1\)/);
  assert.match(text, /with the 500 volumes published *\| 91\.2 MiB/);
  assert.doesNotMatch(formatMarkdown(RESULTS), /NodeGetVolumeStats/, "older results have none");
});

Deno.test("formatMarkdown() says whether the driver ran as the image's bundle or from source", () => {
  const flags = ["--no-config", "--allow-all"];
  const bundled = formatMarkdown({
    ...RESULTS,
    denoFlags: flags,
    entry: { kind: "bundle", module: "src/main.ts" },
  }).replace(/\n/g, " ");
  assert.match(
    bundled,
    /klustre-csi 0\.1\.0, the bundle of src\/main\.ts \(`deno bundle`, which the image is compiled from\), run by `deno run --no-config --allow-all`/,
  );
  const source = formatMarkdown({ ...RESULTS, entry: { kind: "source", module: "src/main.ts" } });
  assert.match(source.replace(/\n/g, " "), /src\/main\.ts from source \(not the image's bundle\)/);
  assert.doesNotMatch(formatMarkdown(RESULTS), /bundle|from source/, "older results say neither");
});
