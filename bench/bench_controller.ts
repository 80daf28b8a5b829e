/**
 * The controller section of `deno task bench`: what CreateVolume and
 * DeleteVolume cost in file-system operations as the number of volumes on
 * one file system grows. The Controller handlers run in this process on a
 * file system of the simulator mounted through its FUSE export; `lfs` calls
 * answer at once (their cost is the same for every create, and is not what
 * grows), so the figures are the records, the allocator, the lock and the
 * directories. Writes bench/results_controller.json and .md.
 */
import type { Config } from "../src/config.ts";
import type { CommandRunner } from "../src/exec/command_runner.ts";
import type { Logger } from "../src/log.ts";
import { controllerHandlers } from "../src/controller_server.ts";
import type { FileSystems } from "../src/controller/controller_mounts.ts";
import { volumeFs } from "../src/controller/volume_fs.ts";
import { Controller } from "../src/csi/gen/csi_pb.ts";
import { create as createMessage } from "@bufbuild/protobuf";
import { CreateVolumeRequestSchema, DeleteVolumeRequestSchema } from "../src/csi/gen/csi_pb.ts";
import { startSim } from "../tests/support/sim.ts";
import { tempDir } from "../tests/support/driver.ts";
import { FS1 } from "../tests/support/node_env.ts";
import { percentile } from "./stats.ts";

/** Sizes of the controller section. */
export interface ControllerBenchSettings {
  /** Sequential creates (default 2,000). */
  readonly creates: number;
  /** Controllers creating at once on one file system (default 8). */
  readonly concurrent: number;
  /** Files in the volume whose delete is timed (default 200,000). */
  readonly files: number;
}

/** What the controller section measured. */
export interface ControllerBenchResults {
  readonly settings: ControllerBenchSettings;
  readonly creates: {
    /** p50 of the first 100 creates on a file system (fs2, empty), run in turn with the last. */
    readonly firstP50Ms: number;
    /** p50 of the last 100 of the sequence on fs1. */
    readonly lastP50Ms: number;
    /** lastP50Ms / firstP50Ms: the goal is <= 1.5. */
    readonly ratio: number;
    /** p50 of the first creates of the fs1 sequence itself (measured under other load). */
    readonly sequenceFirstP50Ms: number;
    /** p50 of each block of 250 creates, in order: flat when the cost does not grow. */
    readonly blockP50Ms: number[];
    readonly wallSeconds: number;
  };
  readonly concurrent: {
    readonly controllers: number;
    readonly creates: number;
    readonly failed: number;
    readonly distinctProjectIds: number;
  };
  readonly delete: {
    readonly files: number;
    /** DeleteVolume's answer time: the goal is < 1,000 ms. */
    readonly deleteMs: number;
    readonly purgeSeconds: number;
    readonly trashEmpty: boolean;
  };
  readonly totalSeconds: number;
}

const silent: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** lfs answers at once, as if every call worked (quotas enabled). */
const instantLfs: CommandRunner = {
  run: () => Promise.resolve({ code: 0, stdout: "", stderr: "", durationMs: 0 }),
};

/** The simulator's file systems, mounted at `mounts[fsName]` for the handlers. */
function onMounts(mounts: Record<string, string>): FileSystems {
  return {
    prepare: () => Promise.resolve(),
    release: () => Promise.resolve([]),
    onFileSystem: (source, work) => {
      const mountPath = mounts[source.fsName];
      const fs = volumeFs(mountPath, 30_000);
      return work(mountPath, fs.records, fs);
    },
  };
}

function handlers(mounts: Record<string, string>, stateDir: string) {
  const config = { commandTimeoutMs: 30_000, stateDir } as unknown as Config;
  return controllerHandlers({
    config,
    runner: instantLfs,
    logger: silent,
    fileSystems: onMounts(mounts),
    mounter: undefined as never,
    gate: undefined as never,
    clientVersion: () => Promise.resolve("2.15.0"),
  });
}

const FS2 = "10.0.0.1@tcp:/fs2";

function request(name: string, source = FS1) {
  return createMessage(CreateVolumeRequestSchema, {
    name,
    capacityRange: { requiredBytes: 1n << 30n },
    volumeCapabilities: [{
      accessType: { case: "mount", value: { fsType: "", mountFlags: [] } },
      accessMode: { mode: 5 },
    }],
    parameters: { source, basePath: "k8s", projectIdRange: "1000-999999" },
  });
}

/** Runs the controller section; `log` gets one line per step. */
export async function benchController(
  settings: ControllerBenchSettings,
  log: (message: string) => void,
): Promise<ControllerBenchResults> {
  void Controller;
  const started = performance.now();
  await using dir = await tempDir("klustre-bench-ctl-");
  const sim = await startSim(`${dir.path}/sim`);
  try {
    const mounts: Record<string, string> = {};
    for (const [fsName, source] of [["fs1", FS1], ["fs2", FS2]]) {
      mounts[fsName] = `${dir.path}/${fsName}`;
      await Deno.mkdir(mounts[fsName]);
      const out = await new Deno.Command(`${sim.bin}/mount.lustre`, {
        args: [source, mounts[fsName]],
        signal: AbortSignal.timeout(60_000),
      }).output();
      if (out.code !== 0) throw new Error(`mount.lustre ${source} failed`);
    }
    const mountPath = mounts.fs1;
    try {
      const one = handlers(mounts, `${dir.path}/state-0`);
      await Deno.mkdir(`${dir.path}/state-0`);

      // 1. Sequential creates on fs1. The last hundred run in turn with the first hundred on an
      //    empty fs2, so both see the same load of a shared machine: the ratio is the growth.
      const window = Math.min(100, Math.floor(settings.creates / 2));
      const times: number[] = [];
      const firstTimes: number[] = [];
      const lastTimes: number[] = [];
      const createStart = performance.now();
      const timed = async (name: string, source: string) => {
        const t = performance.now();
        await one.createVolume(request(name, source));
        return performance.now() - t;
      };
      for (let i = 0; i < settings.creates - window; i++) {
        times.push(await timed(`pvc-seq-${i}`, FS1));
        if ((i + 1) % 500 === 0) log(`controller: ${i + 1} creates`);
      }
      for (let i = 0; i < window; i++) {
        firstTimes.push(await timed(`pvc-first-${i}`, FS2));
        lastTimes.push(await timed(`pvc-seq-${settings.creates - window + i}`, FS1));
        times.push(lastTimes[i]);
      }
      const firstP50Ms = round(percentile(firstTimes, 50));
      const lastP50Ms = round(percentile(lastTimes, 50));
      const ratio = round(lastP50Ms / firstP50Ms);
      const sequenceFirstP50Ms = round(percentile(times.slice(0, window), 50));
      const blockP50Ms: number[] = [];
      for (let i = 0; i < times.length; i += 250) {
        blockP50Ms.push(round(percentile(times.slice(i, i + 250), 50)));
      }
      log(`controller: create p50 per 250 creates on fs1: ${blockP50Ms.join(", ")} ms`);
      log(
        `controller: create p50 of the first ${window} (empty fs2) ${firstP50Ms} ms, ` +
          `of the last ${window} (fs1, after ${
            settings.creates - window
          }) ${lastP50Ms} ms (x${ratio})`,
      );

      // 2. Controllers that share nothing in memory, creating at once on one file system.
      const controllers = await Promise.all(
        Array.from({ length: settings.concurrent }, async (_, i) => {
          await Deno.mkdir(`${dir.path}/state-c${i}`);
          return handlers(mounts, `${dir.path}/state-c${i}`);
        }),
      );
      const made = await Promise.allSettled(
        controllers.flatMap((c, i) =>
          Array.from({ length: 10 }, (_, j) => c.createVolume(request(`pvc-par-${i}-${j}`)))
        ),
      );
      const failed = made.filter((m) => m.status === "rejected").length;
      const ids = new Set<number>();
      for (const m of made) {
        if (m.status !== "fulfilled") continue;
        const record = await volumeFs(mountPath, 30_000).records.read(
          `/${m.value.volume!.volumeContext!.subdir}`,
        );
        if (record) ids.add(record.projectId);
      }
      log(
        `controller: ${made.length} creates by ${settings.concurrent} controllers at once, ` +
          `${failed} failed, ${ids.size} distinct project IDs`,
      );

      // 3. Delete a big volume: the answer comes at once, the purge follows.
      const big = await one.createVolume(request("pvc-big"));
      const backing = `${sim.root}/srv/fs1/backing store/fs1/k8s/pvc-big`;
      const perDir = 1000;
      for (let d = 0; d * perDir < settings.files; d++) {
        await Deno.mkdir(`${backing}/d${d}`);
        const n = Math.min(perDir, settings.files - d * perDir);
        for (let f = 0; f < n; f++) {
          await Deno.writeFile(`${backing}/d${d}/f${f}`, new Uint8Array());
        }
      }
      log(`controller: wrote ${settings.files} files in pvc-big`);
      const t = performance.now();
      await one.deleteVolume(
        createMessage(DeleteVolumeRequestSchema, { volumeId: big.volume!.volumeId }),
      );
      const deleteMs = round(performance.now() - t);
      const p = performance.now();
      await one.purger.idle();
      const purgeSeconds = round((performance.now() - p) / 1000);
      const trashEmpty = (await Array.fromAsync(Deno.readDir(`${mountPath}/.klustre-csi/trash`)))
        .length === 0;
      log(
        `controller: DeleteVolume of ${settings.files} files answered in ${deleteMs} ms; ` +
          `purged in ${purgeSeconds} s (trash empty: ${trashEmpty})`,
      );
      await Promise.all([one, ...controllers].map((c) => c.release()));
      return {
        settings,
        creates: {
          firstP50Ms,
          lastP50Ms,
          ratio,
          sequenceFirstP50Ms,
          blockP50Ms,
          wallSeconds: round((performance.now() - createStart) / 1000),
        },
        concurrent: {
          controllers: settings.concurrent,
          creates: made.length,
          failed,
          distinctProjectIds: ids.size,
        },
        delete: { files: settings.files, deleteMs, purgeSeconds, trashEmpty },
        totalSeconds: round((performance.now() - started) / 1000),
      };
    } finally {
      for (const path of Object.values(mounts)) {
        await new Deno.Command("umount", { args: ["-l", path] }).output();
      }
    }
  } finally {
    await sim[Symbol.asyncDispose]();
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The section as Markdown, for bench/results_controller.md. */
export function formatControllerMarkdown(r: ControllerBenchResults): string {
  const ok = (good: boolean) => good ? "met" : "NOT met";
  return [
    "# Controller bench",
    "",
    "Controller handlers in-process on the simulator's file systems (FUSE); lfs calls answer at",
    "once. The first 100 creates (on an empty fs2) run in turn with the last 100 of the sequence",
    "on fs1, so both see the same load of the machine.",
    "",
    "| Measure | Value | Goal |",
    "| --- | --- | --- |",
    `| CreateVolume p50, first 100 (on an empty file system) | ${r.creates.firstP50Ms} ms | |`,
    `| CreateVolume p50, last 100 of ${r.settings.creates} (run in turn with the first 100) | ${r.creates.lastP50Ms} ms | |`,
    `| Ratio last/first | ${r.creates.ratio} | <= 1.5: ${ok(r.creates.ratio <= 1.5)} |`,
    `| p50 per 250 creates, in order | ${r.creates.blockP50Ms.join(", ")} ms | flat |`,
    `| Concurrent creates (${r.concurrent.controllers} controllers) | ${r.concurrent.creates}, ${r.concurrent.failed} failed, ${r.concurrent.distinctProjectIds} distinct IDs | all succeed, distinct: ${
      ok(r.concurrent.failed === 0 && r.concurrent.distinctProjectIds === r.concurrent.creates)
    } |`,
    `| DeleteVolume of ${r.delete.files} files | ${r.delete.deleteMs} ms | < 1000 ms: ${
      ok(r.delete.deleteMs < 1000)
    } |`,
    `| Purge of that volume | ${r.delete.purgeSeconds} s | finishes: ${ok(r.delete.trashEmpty)} |`,
    `| Section run time | ${r.totalSeconds} s | |`,
    "",
  ].join("\n");
}
