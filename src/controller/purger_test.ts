import assert from "node:assert/strict";
import type { CommandRunner } from "../exec/command_runner.ts";
import type { Logger } from "../log.ts";
import { parseLustreSource } from "../lustre/source.ts";
import { Registry } from "../metrics/prom.ts";
import type { FileSystems } from "./controller_mounts.ts";
import { TrashPurger } from "./purger.ts";
import { writeTrashEntry } from "./trash.ts";
import { volumeFs } from "./volume_fs.ts";

const warnings: string[] = [];
const silent: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn(message, properties) {
    warnings.push(`${message} ${JSON.stringify(properties)}`);
  },
  error() {},
};
const source = parseLustreSource("10.0.0.1@tcp:/fs1");

function onDir(mountPath: string): FileSystems {
  return {
    prepare: () => Promise.resolve(),
    release: () => Promise.resolve([]),
    onFileSystem: (_source, work) => {
      const fs = volumeFs(mountPath, 10_000);
      return work(mountPath, fs.records, fs);
    },
  };
}

Deno.test("TrashPurger purges each entry, clears its quota and frees its ID once, even with two purgers", async () => {
  const mount = await Deno.realPath(await Deno.makeTempDir({ prefix: "klustre-purge-" }));
  try {
    const fs = volumeFs(mount, 10_000);
    await fs.lock.run(async () => {
      for (const id of [7, 8]) assert.equal(await fs.allocator.claim(7, 9), id);
    });
    for (const [token, id] of [["t7", 7], ["t8", 8]] as const) {
      await writeTrashEntry(mount, token, {
        volumeId: `v${id}`,
        dir: `/v${id}`,
        projectId: id,
        trashedAt: "",
      }, 10_000);
      await Deno.mkdir(`${mount}/.klustre-csi/trash/${token}/tree/a/b`, { recursive: true });
      await Deno.writeTextFile(`${mount}/.klustre-csi/trash/${token}/tree/a/b/f`, "12345");
    }
    const quotaCalls: string[] = [];
    const runner: CommandRunner = {
      run: (_cmd, args) => {
        quotaCalls.push(args.join(" "));
        return Promise.resolve({ code: 0, stdout: "", stderr: "", durationMs: 0 });
      },
    };
    const registry = new Registry();
    const purgers = [registry, new Registry()].map((r) =>
      new TrashPurger({
        mounts: onDir(mount),
        runner,
        logger: silent,
        timeoutMs: 10_000,
        registry: r,
      })
    );
    for (const p of purgers) p.wake(source);
    await Promise.all(purgers.map((p) => p.idle()));
    assert.deepEqual([...Deno.readDirSync(`${mount}/.klustre-csi/trash`)], []);
    assert.deepEqual(warnings, [], "two purgers on one entry do not trip over each other");
    assert.ok(
      quotaCalls.every((c) => /^setquota -p [78] -B 0k -I 0 /.test(c)),
      quotaCalls.join("\n"),
    );
    const { used } = JSON.parse(await Deno.readTextFile(fs.allocator.path));
    assert.deepEqual(used, [], "both IDs are free, neither freed twice into another's place");
    await fs.lock.run(async () => assert.equal(await fs.allocator.claim(7, 9), 7));
    const text = await registry.metrics();
    assert.match(text, /klustre_csi_trash_entries\{fs="fs1"\} 0/);
    assert.match(text, /klustre_csi_trash_purged_bytes_total\{fs="fs1"\} \d+/);
    await Promise.all(purgers.map((p) => p.stop()));
  } finally {
    await Deno.remove(mount, { recursive: true });
  }
});
