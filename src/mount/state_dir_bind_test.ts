import assert from "node:assert/strict";
import { FakeLogger } from "../fake_logger.ts";
import type { MountInfo } from "./mountinfo.ts";
import { isSelfBind, StateDirBind } from "./state_dir_bind.ts";

const STATE = "/var/lib/k";

/** A mountinfo entry; device "8:1" is the root file system. */
function entry(
  id: number,
  parentId: number,
  mountPoint: string,
  root = mountPoint,
  device = "8:1",
): MountInfo {
  const [major, minor] = device.split(":").map(Number);
  return { id, parentId, major, minor, root, mountPoint } as unknown as MountInfo;
}

const ROOT = entry(1, 0, "/", "/");
/** What prepare() makes on a host: the state dir bound on itself. */
const SELF_BIND = entry(2, 1, STATE);

/** A mount table; unmount removes the topmost mount at a path. */
function fakeMounter(table: MountInfo[], failUnmount = false) {
  const unmounted: string[] = [];
  return {
    table,
    unmounted,
    mountInfo: () => Promise.resolve([...table]),
    unmount: (target: string) => {
      if (failUnmount) return Promise.reject(new Error("EBUSY"));
      unmounted.push(target);
      table.splice(table.findLastIndex((m) => m.mountPoint === target), 1);
      return Promise.resolve();
    },
  };
}

function deps(mounter: ReturnType<typeof fakeMounter>) {
  return { mounter, logger: new FakeLogger(), stateDir: STATE, timeoutMs: 1000 };
}

Deno.test("StateDirBind.release() unmounts the bind start-up made when nothing is below it", async () => {
  const mounter = fakeMounter([ROOT]);
  const bind = await StateDirBind.before(deps(mounter));
  mounter.table.push(SELF_BIND);
  assert.equal(await bind.release(), "released");
  assert.deepEqual(mounter.table, [ROOT]);
});

Deno.test("StateDirBind.release() also removes a self-bind left by a crash", async () => {
  const mounter = fakeMounter([ROOT, SELF_BIND]);
  const bind = await StateDirBind.before(deps(mounter));
  assert.equal(await bind.release(), "released");
  assert.deepEqual(mounter.unmounted, [STATE]);
});

Deno.test("StateDirBind.release() leaves a file system or hostPath volume mounted there alone", async () => {
  for (const own of [entry(2, 1, STATE, "/", "9:0"), entry(2, 1, STATE, "/elsewhere")]) {
    const mounter = fakeMounter([ROOT, own]);
    const bind = await StateDirBind.before(deps(mounter));
    assert.equal(await bind.release(), "not-ours");
    assert.deepEqual(mounter.unmounted, []);
  }
});

Deno.test("StateDirBind.release() keeps the bind while mounts below it remain, and says so", async () => {
  const mounter = fakeMounter([ROOT, entry(5, 1, `${STATE}x`)]);
  const d = deps(mounter);
  const bind = await StateDirBind.before(d);
  mounter.table.push(SELF_BIND, entry(3, 2, `${STATE}/keeper`), entry(4, 3, `${STATE}/keeper/ns`));
  assert.equal(await bind.release(), "kept");
  assert.deepEqual(mounter.unmounted, []);
  assert.equal(d.logger.entries.at(-1)?.properties.count, 2);
});

Deno.test("StateDirBind.release() logs a failed unmount instead of throwing", async () => {
  const mounter = fakeMounter([ROOT], true);
  const d = deps(mounter);
  const bind = await StateDirBind.before(d);
  mounter.table.push(SELF_BIND);
  assert.equal(await bind.release(), "kept");
  assert.equal(d.logger.entries.at(-1)?.level, "warn");
});

Deno.test("isSelfBind() is true only for the directory the parent shows at that place", () => {
  const parent = entry(10, 1, "/data", "/srv/data", "8:2");
  const mounts = [ROOT, parent];
  assert.equal(isSelfBind(entry(11, 10, "/data/k", "/srv/data/k", "8:2"), mounts), true);
  assert.equal(isSelfBind(entry(11, 10, "/data/k", "/srv/other", "8:2"), mounts), false);
  assert.equal(isSelfBind(entry(11, 10, "/data/k", "/srv/data/k", "8:3"), mounts), false);
  assert.equal(isSelfBind(entry(11, 99, "/data/k", "/srv/data/k", "8:2"), mounts), false);
  assert.equal(isSelfBind(SELF_BIND, [ROOT, SELF_BIND]), true);
});
