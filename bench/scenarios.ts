/**
 * The benchmark scenarios, each on a running BenchNode: publish and
 * unpublish latency (one at a time, and N at once) and a publish storm on
 * one volume with the driver's memory sampled throughout.
 */
import type { BenchNode } from "./bench_node.ts";
import { RssSampler } from "./rss.ts";
import { type LatencySummary, summarize } from "./stats.ts";

/** Latencies of one scenario and the calls that failed. */
export interface LatencyResult {
  readonly publish: LatencySummary;
  readonly unpublish: LatencySummary;
  readonly errors: number;
  readonly firstError?: string;
}

/** What the storm measured. */
export interface StormResult {
  readonly pods: number;
  /** Stage plus every publish, from the first call to the last answer. */
  readonly wallMs: number;
  readonly stageMs: number;
  readonly publish: LatencySummary;
  readonly lustreMounts: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly peakRssKiB: number;
  readonly rssSamples: number;
  /** Every unpublish at once, then the unstage. */
  readonly teardownMs: number;
  readonly teardownErrors: number;
}

/** The volume a scenario uses: its ID and volume context (source, subdir, mountOptions). */
export interface BenchVolume {
  readonly id: string;
  readonly context: Readonly<Record<string, string>>;
}

/** Counts failures of timed calls. */
class Timer {
  errors = 0;
  firstError?: string;

  /** Runs `call`; resolves with its duration, or undefined when it failed. */
  async time(call: () => Promise<void>): Promise<number | undefined> {
    const started = performance.now();
    try {
      await call();
      return performance.now() - started;
    } catch (error) {
      this.errors++;
      this.firstError ??= (error as Error).message;
      return undefined;
    }
  }
}

function durations(values: (number | undefined)[]): number[] {
  const ok = values.filter((v) => v !== undefined);
  return ok.length > 0 ? ok : [NaN];
}

/** Summaries of timed publishes and unpublishes, with the timer's error count. */
function latencyResult(
  publish: (number | undefined)[],
  unpublish: (number | undefined)[],
  timer: Timer,
): LatencyResult {
  return {
    publish: summarize(durations(publish)),
    unpublish: summarize(durations(unpublish)),
    errors: timer.errors,
    firstError: timer.firstError,
  };
}

/** Stages `volumeId`, publishes `count` pods one after another, then unpublishes them. */
export async function sequentialLatency(
  node: BenchNode,
  volume: BenchVolume,
  options: { count: number },
): Promise<LatencyResult> {
  const { id: volumeId, context } = volume;
  const count = options.count;
  await node.stage(volumeId, context);
  const staging = await node.staging(volumeId);
  const targets = await Promise.all(
    Array.from({ length: count }, (_, i) => node.target(volumeId, `seq-${i}`)),
  );
  const timer = new Timer();
  const publish = [];
  for (const target of targets) {
    publish.push(await timer.time(() => node.publish(volumeId, { staging, target }, context)));
  }
  const unpublish = [];
  for (const target of targets) {
    unpublish.push(await timer.time(() => node.unpublish(volumeId, target)));
  }
  await node.unstage(volumeId);
  return latencyResult(publish, unpublish, timer);
}

/** Stages `volumeId`; `rounds` times, publishes `concurrency` pods at once, then unpublishes them at once. */
export async function concurrentLatency(
  node: BenchNode,
  volume: BenchVolume,
  options: { concurrency: number; rounds: number },
): Promise<LatencyResult> {
  const { id: volumeId, context } = volume;
  await node.stage(volumeId, context);
  const staging = await node.staging(volumeId);
  const timer = new Timer();
  const publish: (number | undefined)[] = [];
  const unpublish: (number | undefined)[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const targets = await Promise.all(
      Array.from(
        { length: options.concurrency },
        (_, i) => node.target(volumeId, `par-${round}-${i}`),
      ),
    );
    publish.push(
      ...await Promise.all(
        targets.map((target) =>
          timer.time(() => node.publish(volumeId, { staging, target }, context))
        ),
      ),
    );
    unpublish.push(
      ...await Promise.all(
        targets.map((target) => timer.time(() => node.unpublish(volumeId, target))),
      ),
    );
  }
  await node.unstage(volumeId);
  return latencyResult(publish, unpublish, timer);
}

/**
 * A volume not yet staged; stage it, then `pods` publishes at once, as when
 * a large Job starts on one node. `mountsMade` counts Lustre mounts so far.
 */
export async function publishStorm(
  node: BenchNode,
  volume: BenchVolume,
  options: { pods: number; mountsMade: () => Promise<number> },
): Promise<StormResult> {
  const { id: volumeId, context } = volume;
  const staging = await node.staging(volumeId);
  const targets = await Promise.all(
    Array.from({ length: options.pods }, (_, i) => node.target(volumeId, `storm-${i}`)),
  );
  const mountsBefore = await options.mountsMade();
  const sampler = new RssSampler(node.driver.pid);
  await sampler.start();
  const timer = new Timer();
  const started = performance.now();
  const stageMs = await timer.time(() => node.stage(volumeId, context));
  const publish = await Promise.all(
    targets.map((target) => timer.time(() => node.publish(volumeId, { staging, target }, context))),
  );
  const wallMs = performance.now() - started;
  const rss = await sampler.stop();
  const lustreMounts = (await options.mountsMade()) - mountsBefore;
  const teardown = new Timer();
  const teardownStarted = performance.now();
  await Promise.all(targets.map((target) => teardown.time(() => node.unpublish(volumeId, target))));
  await teardown.time(() => node.unstage(volumeId));
  return {
    pods: options.pods,
    wallMs: Math.round(wallMs),
    stageMs: Math.round(stageMs ?? NaN),
    publish: summarize(durations(publish)),
    lustreMounts,
    errors: timer.errors,
    firstError: timer.firstError,
    peakRssKiB: rss.peakKiB,
    rssSamples: rss.samples,
    teardownMs: Math.round(performance.now() - teardownStarted),
    teardownErrors: teardown.errors,
  };
}
