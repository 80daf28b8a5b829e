import assert from "node:assert/strict";
import { SystemMounter } from "./system_mounter.ts";
import { MountError, PathBeneathError } from "./mounter.ts";
import { isReadOnly, mountAt } from "./mountinfo.ts";

// Runs as root in the test task's private mount namespace.
Deno.test("SystemMounter binds with flags, reports errno, and keeps its worker threads bounded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mounter-test-" });
  const mounter = new SystemMounter({
    // Each call's timeout includes its wait for a worker: generous, as a loaded CI machine is slow.
    timeoutMs: 30_000,
    scratchDir: `${dir}/scratch`,
    maxWorkers: 2,
    workerIdleMs: 100,
  });
  try {
    await Deno.mkdir(`${dir}/src`);
    await Deno.writeTextFile(`${dir}/src/f`, "data");
    const targets = Array.from({ length: 24 }, (_, i) => `${dir}/t${i}`);
    for (const target of targets) await Deno.mkdir(target);
    let most = 0;
    const watch = setInterval(() => most = Math.max(most, mounter.workerCount), 1);
    await Promise.all(targets.map((t, i) => mounter.bind(`${dir}/src`, t, i % 2 ? ["ro"] : [])));
    clearInterval(watch);
    assert.ok(most <= 2, `at most 2 workers, saw ${most}`);
    // Idle workers end after their idle time (polled: a loaded machine is slow).
    for (let i = 0; i < 200 && mounter.workerCount > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(mounter.workerCount, 0, "idle workers are ended");
    const mounts = await mounter.mountInfo();
    assert.equal(await Deno.readTextFile(`${targets[5]}/f`), "data");
    assert.ok(isReadOnly(mountAt(mounts, targets[1])!));
    assert.ok(!isReadOnly(mountAt(mounts, targets[0])!));
    await Promise.all(targets.map((t) => mounter.unmount(t, "plain", 5000)));
    assert.equal(mountAt(await mounter.mountInfo(), targets[0]), undefined);
    await mounter.unmount(targets[0], "plain", 5000);
    await assert.rejects(
      mounter.bind(`${dir}/missing`, targets[0], []),
      (error) => error instanceof MountError && error.errno === "ENOENT",
    );
  } finally {
    mounter.close();
    await new Deno.Command("umount", { args: ["-R", "-l", dir], stderr: "null" }).output();
    await Deno.remove(dir, { recursive: true });
  }
});

for (const useOpenat2 of [true, false]) {
  Deno.test(`SystemMounter.bindBeneath() binds real directories only, with flags (${useOpenat2 ? "openat2" : "openat walk"})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "mounter-beneath-test-" });
    const mounter = new SystemMounter({
      timeoutMs: 5000,
      scratchDir: `${dir}/scratch`,
      useOpenat2,
    });
    try {
      await Deno.mkdir(`${dir}/fs/vol`, { recursive: true });
      await Deno.writeTextFile(`${dir}/fs/vol/marker`, "vol");
      await Deno.symlink("/etc", `${dir}/fs/link`);
      await Deno.mkdir(`${dir}/kubelet/t1`, { recursive: true });
      await Deno.mkdir(`${dir}/kubelet/t2`, { recursive: true });
      await Deno.symlink("/tmp", `${dir}/kubelet/planted`);
      const fs = (path: string) => ({ root: `${dir}/fs`, path });
      const kubelet = (path: string) => ({ root: `${dir}/kubelet`, path });
      await mounter.bindBeneath(fs("vol"), kubelet("t1"), []);
      await mounter.bindBeneath(fs("/vol"), kubelet("t2"), ["ro", "nosuid", "nodev"]);
      assert.equal(await Deno.readTextFile(`${dir}/kubelet/t1/marker`), "vol");
      const mounts = await mounter.mountInfo();
      const t2 = mountAt(mounts, `${dir}/kubelet/t2`)!;
      assert.ok(isReadOnly(t2));
      assert.ok(t2.options.includes("nosuid") && t2.options.includes("nodev"));
      const refused = (which: string, errno: string) => (error: unknown) =>
        error instanceof PathBeneathError && error.which === which && error.errno === errno;
      await assert.rejects(
        mounter.bindBeneath(fs("link"), kubelet("t1"), []),
        refused("source", "ELOOP"),
      );
      await assert.rejects(
        mounter.bindBeneath(fs("vol"), kubelet("planted"), ["ro"]),
        refused("target", "ELOOP"),
      );
      await assert.rejects(
        mounter.bindBeneath(fs("gone"), kubelet("t1"), []),
        refused("source", "ENOENT"),
      );
      assert.deepEqual(
        (await mounter.mountInfo()).filter((m) => m.mountPoint.startsWith(dir)).map((m) =>
          m.mountPoint
        ),
        [`${dir}/kubelet/t1`, `${dir}/kubelet/t2`],
        "refused binds leave nothing, not even in the scratch folder",
      );
    } finally {
      for (const target of ["t1", "t2"]) {
        await mounter.unmount(`${dir}/kubelet/${target}`, "lazy", 5000).catch(() => undefined);
      }
      mounter.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("SystemMounter.replaceBeneath() swaps a mount under a shared parent only once the new bind is ready", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mounter-replace-test-" });
  const mounter = new SystemMounter({ timeoutMs: 5000, scratchDir: `${dir}/scratch` });
  const kubeletDir = `${dir}/kubelet`;
  const staging = `${kubeletDir}/staging`;
  const sh = async (...args: string[]) => {
    const out = await new Deno.Command("mount", { args, signal: AbortSignal.timeout(10_000) })
      .output();
    assert.equal(out.code, 0, `mount ${args.join(" ")}`);
  };
  try {
    for (const vol of ["old", "new"]) {
      await Deno.mkdir(`${dir}/fs/${vol}`, { recursive: true });
      await Deno.writeTextFile(`${dir}/fs/${vol}/marker`, vol);
    }
    await Deno.mkdir(staging, { recursive: true });
    // Like /var/lib/kubelet on a node: a shared mount.
    await sh("--bind", kubeletDir, kubeletDir);
    await sh("--make-shared", kubeletDir);
    const fs = (path: string) => ({ root: `${dir}/fs`, path });
    const target = { root: kubeletDir, path: "staging" };
    const at = async () =>
      (await mounter.mountInfo()).filter((m) => m.mountPoint === staging).map((m) => m.root);

    await mounter.replaceBeneath(fs("old"), target, ["nosuid"]);
    assert.equal(
      await Deno.readTextFile(`${staging}/marker`),
      "old",
      "a bare directory just gets the bind",
    );
    await assert.rejects(
      mounter.replaceBeneath(fs("gone"), target, ["nosuid"]),
      (error) => error instanceof PathBeneathError && error.errno === "ENOENT",
    );
    assert.equal(
      await Deno.readTextFile(`${staging}/marker`),
      "old",
      "a failed replacement changes nothing",
    );
    await mounter.replaceBeneath(fs("new"), target, ["ro", "nosuid"]);
    assert.equal(await Deno.readTextFile(`${staging}/marker`), "new");
    assert.equal((await at()).length, 1, "the old mount is gone, not stacked below");
    assert.ok(isReadOnly(mountAt(await mounter.mountInfo(), staging)!));
    assert.deepEqual(
      (await mounter.mountInfo()).filter((m) => m.mountPoint.startsWith(`${dir}/scratch`)),
      [],
      "nothing is left in the scratch folder",
    );
  } finally {
    for (const path of [staging, staging, kubeletDir]) {
      await mounter.unmount(path, "lazy", 5000).catch(() => undefined);
    }
    mounter.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SystemMounter.makePrivate() binds a directory on itself, private, without a worker thread", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mounter-private-" });
  const mounter = new SystemMounter({ timeoutMs: 30_000 });
  try {
    await mounter.makePrivate(dir);
    await mounter.makePrivate(dir); // already a mount: made private again, not bound twice
    const mounts = (await mounter.mountInfo()).filter((m) => m.mountPoint === dir);
    assert.equal(mounts.length, 1);
    assert.deepEqual(mounts[0].optionalFields, [], "no shared or slave peer group");
    assert.equal(mounter.workerCount, 0);
    await assert.rejects(
      mounter.makePrivate(`${dir}/missing`),
      (error) => error instanceof MountError && error.errno === "ENOENT",
    );
  } finally {
    mounter.close();
    await new Deno.Command("umount", { args: ["-R", "-l", dir], stderr: "null" }).output();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SystemMounter runs quick calls on one thread and gives a spare to calls behind one stuck in the kernel", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mounter-spare-" });
  const mounter = new SystemMounter({ timeoutMs: 30_000, workerIdleMs: 100, spareAfterMs: 100 });
  let bindfs: Deno.ChildProcess | undefined;
  try {
    for (const sub of ["src", "fuse", "local", "t-stuck", "t-free", ...["a", "b", "c", "d"]]) {
      await Deno.mkdir(`${dir}/${sub}`);
    }
    // Quick calls queue for the one thread (a spare only after 5 s: never, even on a slow machine).
    const patient = new SystemMounter({ timeoutMs: 30_000, workerIdleMs: 100, spareAfterMs: 5000 });
    let most = 0;
    const watch = setInterval(() => most = Math.max(most, patient.workerCount), 1);
    await Promise.all(
      ["a", "b", "c", "d"].map((t) => patient.bind(`${dir}/local`, `${dir}/${t}`, [])),
    );
    clearInterval(watch);
    patient.close();
    assert.equal(most, 1, "four binds at once on one thread");

    // A FUSE file system whose daemon is stopped: a lookup in it blocks in the kernel.
    bindfs = new Deno.Command("bindfs", { args: ["-f", `${dir}/src`, `${dir}/fuse`] }).spawn();
    for (let i = 0; i < 100 && !mountAt(await mounter.mountInfo(), `${dir}/fuse`); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(mountAt(await mounter.mountInfo(), `${dir}/fuse`), "bindfs mounted");
    await Deno.mkdir(`${dir}/src/never-looked-up`);
    Deno.kill(bindfs.pid, "SIGSTOP");
    const stuck = mounter.bind(`${dir}/fuse/never-looked-up`, `${dir}/t-stuck`, []);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await mounter.bind(`${dir}/local`, `${dir}/t-free`, []);
    assert.equal(
      await Deno.readTextFile(`/proc/self/mountinfo`).then((t) => t.includes(`${dir}/t-free `)),
      true,
    );
    assert.equal(mounter.workerCount, 2, "the stuck call's thread and its spare");
    Deno.kill(bindfs.pid, "SIGCONT");
    await stuck;
  } finally {
    mounter.close();
    for (const mount of ["a", "b", "c", "d", "t-free", "t-stuck", "fuse"]) {
      await new Deno.Command("umount", { args: ["-l", `${dir}/${mount}`], stderr: "null" })
        .output();
    }
    if (bindfs) {
      for (const signal of ["SIGCONT", "SIGTERM"] as const) {
        try {
          Deno.kill(bindfs.pid, signal);
        } catch { /* ended */ }
      }
      await bindfs.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});
