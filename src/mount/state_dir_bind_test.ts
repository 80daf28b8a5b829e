import assert from "node:assert/strict";
import { FakeLogger } from "../fake_logger.ts";
import type { MountInfo } from "./mountinfo.ts";
import { StateDirBind } from "./state_dir_bind.ts";

/** A mount table of paths; unmount removes the topmost mount at a path. */
function fakeMounter(paths: string[], failUnmount = false) {
  const table = [...paths];
  const unmounted: string[] = [];
  const info = (mountPoint: string, id: number) => ({ id, mountPoint } as unknown as MountInfo);
  return {
    table,
    unmounted,
    mountInfo: () => Promise.resolve(table.map(info)),
    unmount: (target: string) => {
      if (failUnmount) return Promise.reject(new Error("EBUSY"));
      unmounted.push(target);
      table.splice(table.lastIndexOf(target), 1);
      return Promise.resolve();
    },
  };
}

function deps(mounter: ReturnType<typeof fakeMounter>) {
  return { mounter, logger: new FakeLogger(), stateDir: "/var/lib/k", timeoutMs: 1000 };
}

Deno.test("StateDirBind.release() unmounts the bind start-up made when nothing is below it", async () => {
  const mounter = fakeMounter(["/"]);
  const bind = await StateDirBind.before(deps(mounter));
  mounter.table.push("/var/lib/k"); // what prepare() does: bind it on itself
  assert.equal(await bind.release(), "released");
  assert.deepEqual(mounter.table, ["/"]);
});

Deno.test("StateDirBind.release() keeps a bind that was there before start-up", async () => {
  const mounter = fakeMounter(["/", "/var/lib/k"]);
  const bind = await StateDirBind.before(deps(mounter));
  assert.equal(await bind.release(), "not-ours");
  assert.deepEqual(mounter.unmounted, []);
});

Deno.test("StateDirBind.release() keeps the bind while mounts below it remain, and says so", async () => {
  const mounter = fakeMounter(["/", "/var/lib/kx"]);
  const d = deps(mounter);
  const bind = await StateDirBind.before(d);
  mounter.table.push("/var/lib/k", "/var/lib/k/keeper", "/var/lib/k/keeper/ns");
  assert.equal(await bind.release(), "kept");
  assert.deepEqual(mounter.unmounted, []);
  assert.equal(d.logger.entries.at(-1)?.properties.count, 2);
});

Deno.test("StateDirBind.release() logs a failed unmount instead of throwing", async () => {
  const mounter = fakeMounter(["/"], true);
  const d = deps(mounter);
  const bind = await StateDirBind.before(d);
  mounter.table.push("/var/lib/k");
  assert.equal(await bind.release(), "kept");
  assert.equal(d.logger.entries.at(-1)?.level, "warn");
});
