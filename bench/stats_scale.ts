/**
 * Stats at scale: a node with many staged and published volumes, and
 * kubelet's NodeGetVolumeStats of every one of them, N at once, twice
 * (cold, then warm); the driver's CPU time and the lfs processes it ran.
 */
import type { BenchNode } from "./bench_node.ts";
import { type LatencySummary, summarize } from "./stats.ts";
import { readRssKiB } from "./rss.ts";

/** One pass of NodeGetVolumeStats over every volume. */
export interface StatsPass {
  readonly wallMs: number;
  readonly latency: LatencySummary;
  /** The driver's user + system CPU seconds during the pass. */
  readonly cpuSeconds: number;
  readonly errors: number;
  readonly abnormal: number;
}

/** What the stats scenario measured. */
export interface StatsScaleResult {
  readonly volumes: number;
  readonly concurrency: number;
  /** Stage and publish of every volume (setup, not a target). */
  readonly setupMs: number;
  readonly cold: StatsPass;
  readonly warm: StatsPass;
  /** Warm again, one call at a time (kubelet's calls spread over its minute). */
  readonly warmSequential?: StatsPass;
  /**
   * As many GetPluginInfo calls, `concurrency` at once: an RPC that does nothing,
   * so the cost of gRPC itself (client and server on the same cores).
   */
  readonly grpcFloor?: StatsPass;
  /** The driver's VmRSS after the warm pass, with every volume still published. */
  readonly rssMiB: number;
  /** lfs processes over all passes, and the most for one volume (simulator only). */
  readonly lfsCalls?: number;
  readonly maxLfsPerVolume?: number;
  readonly firstError?: string;
}

/** How the scenario counts lfs runs: the paths of the lfs processes started so far. */
export type LfsPaths = () => Promise<string[][]>;

/**
 * CPU seconds (utime + stime) of `pid` from /proc/PID/stat.
 * @throws Deno.errors.NotFound when the process is gone
 */
export async function readCpuSeconds(pid: number): Promise<number> {
  return parseCpuSeconds(await Deno.readTextFile(`/proc/${pid}/stat`));
}

/** utime + stime of a /proc/PID/stat line, in seconds (100 ticks a second). */
export function parseCpuSeconds(stat: string): number {
  // The command name (field 2) may hold spaces: count fields after its ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Runs `fn` over `items`, `concurrency` at a time. */
async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/**
 * The volume context of the `index`th volume. Each volume needs a directory
 * of its own: two staged volumes of one directory share root and device,
 * which the driver refuses (kubelet could not unstage either).
 */
export type ContextFor = (index: number) => Promise<Readonly<Record<string, string>>>;

/** Stages and publishes `volumes` volumes, measures two stats passes, then tears down. */
export async function statsAtScale(
  node: BenchNode,
  idPrefix: string,
  options: { volumes: number; concurrency: number; contextFor: ContextFor; lfsPaths?: LfsPaths },
): Promise<StatsScaleResult> {
  const { volumes, concurrency } = options;
  const ids = Array.from({ length: volumes }, (_, i) => `${idPrefix}-${i}`);
  const contexts = await Promise.all(ids.map((_, i) => options.contextFor(i)));
  const volume = (id: string) => contexts[ids.indexOf(id)];
  const targets = new Map<string, string>();
  const setupStarted = performance.now();
  await pool(ids, concurrency, async (id) => {
    await node.stage(id, volume(id));
    const target = await node.target(id, `stats-${id}`);
    await node.publish(id, { staging: await node.staging(id), target }, volume(id));
    targets.set(id, target);
  });
  const setupMs = Math.round(performance.now() - setupStarted);
  const lfsPaths = options.lfsPaths ?? (() => Promise.resolve([]));
  const lfsBefore = (await lfsPaths()).length;
  let firstError: string | undefined;
  const stats = async (id: string) => (await node.stats(id, targets.get(id)!)).abnormal;
  const pass = async (
    parallel = concurrency,
    call: (id: string) => Promise<boolean> = stats,
  ): Promise<StatsPass> => {
    const durations: number[] = [];
    let errors = 0;
    let abnormal = 0;
    const cpuBefore = await readCpuSeconds(node.driver.pid);
    const started = performance.now();
    await pool(ids, parallel, async (id) => {
      const callStarted = performance.now();
      try {
        if (await call(id)) abnormal++;
        durations.push(performance.now() - callStarted);
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    });
    const wallMs = Math.round(performance.now() - started);
    const cpuSeconds = await readCpuSeconds(node.driver.pid) - cpuBefore;
    return {
      wallMs,
      latency: summarize(durations.length > 0 ? durations : [NaN]),
      cpuSeconds: Math.round(cpuSeconds * 100) / 100,
      errors,
      abnormal,
    };
  };
  const cold = await pass();
  const warm = await pass();
  const warmSequential = await pass(1);
  const grpcFloor = await pass(concurrency, async () => {
    await node.pluginInfo();
    return false;
  });
  const rssMiB = Math.round(await readRssKiB(node.driver.pid) / 102.4) / 10;
  const lfs = (await lfsPaths()).slice(lfsBefore);
  const perVolume = [...targets.values()].map((target) =>
    lfs.filter((argv) => argv.includes(target)).length
  );
  await pool(ids, concurrency, async (id) => {
    await node.unpublish(id, targets.get(id)!).catch(() => undefined);
    await node.unstage(id).catch(() => undefined);
  });
  return {
    volumes,
    concurrency,
    setupMs,
    cold,
    warm,
    warmSequential,
    grpcFloor,
    rssMiB,
    lfsCalls: options.lfsPaths ? lfs.length : undefined,
    maxLfsPerVolume: options.lfsPaths ? Math.max(0, ...perVolume) : undefined,
    firstError,
  };
}
