/**
 * What the metrics library costs in resident memory: starts small Deno
 * processes that load gRPC and the CSI messages (the stack's floor), then
 * optionally the driver's metrics or prom-client's package index, record 300
 * calls, scrape once, collect garbage and print VmRSS. Runs them interleaved
 * and prints the median per variant (docs/operations.md quotes the result).
 *
 *   deno run --allow-all bench/metrics_rss.ts [--runs N]
 */
import { parseArgs } from "node:util";

const REPO = new URL("..", import.meta.url).pathname;

const FLOOR = `import * as grpc from "@grpc/grpc-js";
import "${REPO}src/csi/gen/csi_pb.ts";
void new grpc.Server();`;

const RECORD =
  `for (const method of ["NodePublishVolume", "NodeStageVolume", "NodeGetVolumeStats"]) {
  for (let i = 0; i < 100; i++) { m.rpcInFlight(method, 1); m.rpcDone(method, "OK", i); m.rpcInFlight(method, -1); }
}
await m.scrape();`;

/** Variant name to the code after the floor. */
const VARIANTS: Record<string, string> = {
  floor: "",
  driverMetrics: `import { DriverMetrics } from "${REPO}src/metrics/driver_metrics.ts";
const m = new DriverMetrics({ mountInfo: () => Promise.resolve([]), mountsDir: "/x", version: "1" });
${RECORD}`,
  promClientIndex: `import * as prom from "prom-client";
const r = new prom.Registry();
const c = new prom.Counter({ name: "c_total", help: "c", labelNames: ["method", "code"], registers: [r] });
const h = new prom.Histogram({ name: "h_seconds", help: "h", labelNames: ["method"], registers: [r] });
const g = new prom.Gauge({ name: "g", help: "g", labelNames: ["method"], registers: [r] });
const m = {
  rpcInFlight: (method: string, d: number) => g.inc({ method }, d),
  rpcDone: (method: string, code: string, ms: number) => { c.inc({ method, code }); h.observe({ method }, ms / 1000); },
  scrape: () => r.metrics(),
};
${RECORD}`,
};

const SETTLE = `
await new Promise((r) => setTimeout(r, 300));
(globalThis as { gc?: () => void }).gc?.();
await new Promise((r) => setTimeout(r, 200));
const status = await Deno.readTextFile("/proc/self/status");
console.log(status.match(/VmRSS:\\s+(\\d+)/)![1]);
`;

/** VmRSS in KiB of one run of `code`. */
async function runOnce(file: string): Promise<number> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--v8-flags=--expose-gc", "--config", `${REPO}deno.json`, file],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  if (code !== 0) throw new Error(`${file} failed: ${new TextDecoder().decode(stderr)}`);
  return Number(new TextDecoder().decode(stdout).trim());
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "9" } } });
  const runs = Number(values.runs);
  const dir = await Deno.makeTempDir({ prefix: "klustre-metrics-rss-" });
  try {
    const files = Object.entries(VARIANTS).map(([name, body]) => {
      const file = `${dir}/${name}.ts`;
      Deno.writeTextFileSync(file, `${FLOOR}\n${body}\n${SETTLE}`);
      return [name, file] as const;
    });
    const rss = new Map<string, number[]>(files.map(([name]) => [name, []]));
    for (let i = 0; i < runs; i++) {
      for (const [name, file] of files) rss.get(name)!.push(await runOnce(file));
    }
    const floor = median(rss.get("floor")!) / 1024;
    for (const [name, kib] of rss) {
      const mib = median(kib) / 1024;
      console.log(`${name}: median VmRSS ${mib.toFixed(2)} MiB (+${(mib - floor).toFixed(2)})`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
