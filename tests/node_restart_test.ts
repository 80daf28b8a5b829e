/**
 * Restarts into a new mount namespace adopt the shared Lustre mounts kept in
 * the keeper namespace (--host-mount-namespace), as a DaemonSet container's
 * restart would: no second mount.lustre, and the last user still releases it.
 */
import assert from "node:assert/strict";
import { parseMountInfo } from "../src/mount/mountinfo.ts";
import { FS1, startNodeEnv } from "./support/node_env.ts";
import { mountsBelow } from "./support/kubelet.ts";

Deno.test("a driver restarted in a new mount namespace adopts the kept Lustre mount and still releases it", async () => {
  await using env = await startNodeEnv({ hostNamespace: true });
  const ctxA = { source: FS1, subdir: await env.sim.mkdir("fs1", "a") };
  const ctxB = { source: FS1, subdir: await env.sim.mkdir("fs1", "b") };
  await env.stage("pv-a", ctxA);
  const targetA = await env.publish("pv-a", "pod-a", ctxA);
  await Deno.writeTextFile(`${targetA}/kept.txt`, "written before the restart");
  const host = await env.host!.mountInfo();
  assert.deepEqual(
    host.filter((m) =>
      m.mountPoint.startsWith(`${env.stateDir}/`) && m.fsType !== "nsfs" &&
      m.mountPoint !== `${env.stateDir}/keeper`
    ).map((m) => m.mountPoint),
    [],
    "kubelet (the host) never sees a shared mount",
  );
  assert.equal(
    env.lustreClientMounts(await env.keeperMounts()).length,
    1,
    "the keeper holds the mount",
  );

  assert.equal((await env.driver.stop("SIGKILL")).signal, "SIGKILL");
  // The restart's namespace is a fresh copy of the host's: the old one died with the driver.
  await env.start();
  assert.notEqual(
    await Deno.readLink(`/proc/${env.driver.pid}/ns/mnt`),
    await Deno.readLink(env.host!.nsPath),
  );

  await env.stage("pv-b", ctxB);
  const targetB = await env.publish("pv-b", "pod-b", ctxB);
  assert.equal((await env.sim.mountAttempts()).length, 1, "mount.lustre ran once in total");
  assert.equal(await Deno.readTextFile(`${targetA}/kept.txt`), "written before the restart");
  await Deno.writeTextFile(`${targetB}/new.txt`, "after");
  assert.equal(
    await Deno.readTextFile(`${env.sim.root}/srv/fs1/backing store/fs1/b/new.txt`),
    "after",
  );

  await env.unpublish("pv-a", "pod-a");
  await env.unstage("pv-a");
  assert.equal(env.lustreClientMounts(await env.keeperMounts()).length, 1, "pv-b still uses it");
  await env.unpublish("pv-b", "pod-b");
  await env.unstage("pv-b");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
  assert.deepEqual(env.lustreClientMounts(await env.keeperMounts()), [], "released in the keeper");
  assert.deepEqual(env.lustreClientMounts(await env.host!.mountInfo()), [], "none on the host");
  const driverNs = parseMountInfo(await Deno.readTextFile(`/proc/${env.driver.pid}/mountinfo`));
  assert.deepEqual(env.lustreClientMounts(driverNs), [], "none in the driver's namespace");
});
