/**
 * The end-of-run invariants, once faults are cleared and kubelet has
 * unpublished and unstaged everything: what pods wrote is on the file
 * system, and no mount is left in any namespace.
 */
import { parseMountInfo } from "../../../src/mount/mountinfo.ts";
import type { NodeEnv } from "../node_env.ts";
import { mountsBelow } from "../kubelet.ts";
import { dataName, markerName, PODS, VOLUMES } from "./cluster.ts";
import type { Written } from "./target_checks.ts";
import { check } from "./invariant.ts";

/** Checks every file written through a pod on the simulator's server side. */
export async function checkWrittenData(env: NodeEnv, written: Written): Promise<void> {
  const dirOf = (v: number) => {
    const { fs, subdir } = VOLUMES[v];
    return `${env.sim.root}/srv/${fs}/backing store/${fs}${subdir ? `/${subdir}` : ""}`;
  };
  const expected: Array<[string, string]> = [
    ...[...written.markers].map((v): [string, string] => [
      `${dirOf(v)}/${markerName(VOLUMES[v])}`,
      VOLUMES[v].id,
    ]),
    ...[...written.data].map((key): [string, string] => {
      const [v, p] = key.split("/").map(Number);
      return [`${dirOf(v)}/${dataName(PODS[p])}`, `${VOLUMES[v].id} ${PODS[p]}`];
    }),
  ];
  for (const [path, text] of expected) {
    const found = await Deno.readTextFile(path).catch((e) => `(${e.message})`);
    check(found === text, `Written data lost: "${path}" holds ${JSON.stringify(found)}`);
  }
}

/** Checks that no Lustre mount or kubelet-dir mount is left anywhere. */
export async function checkNoMounts(env: NodeEnv): Promise<void> {
  const below = await mountsBelow(env.kubeletDir);
  check(
    below.length === 1,
    `Mounts left in the kubelet dir: ${below.filter((m) => m !== env.kubeletDir).join(", ")}`,
  );
  const tables: Array<[string, string]> = [
    ["this (kubelet's) namespace", await Deno.readTextFile("/proc/self/mountinfo")],
    ["the driver's namespace", await Deno.readTextFile(`/proc/${env.driver.pid}/mountinfo`)],
  ];
  const host = env.host;
  if (host) {
    const hostTable = await host.mountInfo();
    tables.push([
      "the host namespace",
      await Deno.readTextFile(host.nsPath.replace(/ns\/mnt$/, "mountinfo")),
    ]);
    const pin = `${env.stateDir}/keeper/ns`;
    if (hostTable.some((m) => m.mountPoint === pin)) {
      const keeper = await host.pinnedMountInfo(pin);
      check(
        env.lustreClientMounts(keeper).length === 0,
        `Lustre mounts left in the keeper namespace: ${env.lustreClientMounts(keeper).join(", ")}`,
      );
    }
  }
  for (const [name, text] of tables) {
    const mounts = parseMountInfo(text);
    const left = [
      ...env.lustreClientMounts(mounts),
      ...mounts.map((m) => m.mountPoint).filter((p) => p.startsWith(`${env.kubeletDir}/`)),
    ];
    check(left.length === 0, `Mounts left in ${name}: ${left.join(", ")}`);
  }
}
