/**
 * Accessors for the pod template of a rendered workload (DaemonSet or
 * Deployment): its containers, their flags and mounts, its volumes. Each
 * asserts that what it looks up exists exactly once.
 */
import assert from "node:assert/strict";
import type { Obj } from "./manifests.ts";

/** The pod spec of a workload's template. */
export function podSpec(workload: Obj): Obj {
  return workload.spec.template.spec;
}

/** The container called `name`, asserting it exists. */
export function container(workload: Obj, name: string): Obj {
  const found = (podSpec(workload).containers as Obj[]).find((c) => c.name === name);
  assert.ok(found, `container ${name}`);
  return found;
}

/** A container's args, empty when it has none. */
export function args(c: Obj): string[] {
  return (c.args ?? []) as string[];
}

/** The value of a container's one `--flag=value` arg. */
export function argValue(c: Obj, flag: string): string {
  const prefix = `--${flag}=`;
  const values = args(c).filter((a) => a.startsWith(prefix));
  assert.equal(values.length, 1, `${c.name}: one ${prefix}`);
  return values[0].slice(prefix.length);
}

/** A container's one mount of `volume`. */
export function mountOf(c: Obj, volume: string): Obj {
  const found = ((c.volumeMounts ?? []) as Obj[]).filter((m) => m.name === volume);
  assert.equal(found.length, 1, `${c.name}: one mount of ${volume}`);
  return found[0];
}

/** The pod volume called `name`, asserting it exists. */
export function volumeOf(workload: Obj, name: string): Obj {
  const found = (podSpec(workload).volumes as Obj[]).find((v) => v.name === name);
  assert.ok(found, `volume ${name}`);
  return found;
}

/** Whether `path` is `dir` or inside it. */
export function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

/** Host paths a container sees, mount path -> host path, for hostPath volumes. */
export function hostMounts(workload: Obj, c: Obj): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of (c.volumeMounts ?? []) as Obj[]) {
    const hostPath = volumeOf(workload, m.name).hostPath?.path;
    if (hostPath) map.set(m.mountPath, hostPath);
  }
  return map;
}
