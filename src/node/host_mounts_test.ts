import assert from "node:assert/strict";
import { findHostCollision, readHostMounts } from "./host_mounts.ts";
import { parseMountInfo } from "../mount/mountinfo.ts";
import type { Logger } from "../log.ts";

const HOST_TABLE = [
  "21 1 0:20 / / rw - ext4 /dev/sda1 rw",
  "40 21 0:55 / /lustre/fs1 rw - lustre 10.0.0.1@tcp:10.0.0.2@tcp:/fs1 rw,flock",
  "41 21 0:55 /projects /projects rw - lustre 10.0.0.1@tcp:/fs1 rw,flock",
  "42 21 0:55 / /var/lib/kubelet/plugins/x/globalmount rw - lustre 10.0.0.1@tcp:/fs1 rw",
  "43 21 0:56 / /lustre/fs2 rw - lustre 10.0.0.9@tcp:/fs2 rw",
].join("\n");

const shared = parseMountInfo(
  "90 80 0:55 / /var/lib/klustre-csi/mounts/fs1-abc rw - lustre 10.0.0.1@tcp:/fs1 rw,flock",
)[0];

const skipKubelet = (path: string) => path.startsWith("/var/lib/kubelet/");

Deno.test("findHostCollision() finds a host mount of the file system with the same root and device", () => {
  const mounts = parseMountInfo(HOST_TABLE);
  const query = { shared, root: "/", fsName: "fs1", skip: skipKubelet };
  assert.equal(findHostCollision(mounts, query)?.mountPoint, "/lustre/fs1");
  assert.equal(
    findHostCollision(mounts, { ...query, root: "/projects" })?.mountPoint,
    "/projects",
  );
  assert.equal(findHostCollision(mounts, { ...query, root: "/projects/a" }), undefined);
});

Deno.test("findHostCollision() ignores other devices, other file systems and skipped paths", () => {
  const mounts = parseMountInfo(HOST_TABLE);
  const unique = { ...shared, minor: 77 };
  assert.equal(
    findHostCollision(mounts, { shared: unique, root: "/", fsName: "fs1", skip: skipKubelet }),
    undefined,
    "a unique_fsid mount has a device of its own",
  );
  assert.equal(
    findHostCollision(mounts.slice(2), { shared, root: "/", fsName: "fs1", skip: skipKubelet }),
    undefined,
    "kubelet's own mounts are the driver's view's business",
  );
  assert.equal(
    findHostCollision(mounts, { shared, root: "/", fsName: "fs2", skip: () => false }),
    undefined,
  );
});

Deno.test("readHostMounts() reads a table, and warns and sees none when it cannot", async () => {
  const warnings: string[] = [];
  const logger = { warn: (message: string) => warnings.push(message) } as unknown as Logger;
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, HOST_TABLE);
    assert.equal((await readHostMounts({ path: file, timeoutMs: 5000, logger })).length, 5);
    assert.deepEqual(await readHostMounts({ path: "", timeoutMs: 5000, logger }), []);
    assert.deepEqual(warnings, []);
    const missing = await readHostMounts({ path: `${file}.none`, timeoutMs: 5000, logger });
    assert.deepEqual(missing, []);
    assert.match(warnings[0], /Cannot read the host's mount table/);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("readHostMounts() sees no mounts in a table larger than it reads, and says so", async () => {
  const warnings: unknown[] = [];
  const logger = {
    warn: (_: string, properties: unknown) => warnings.push(properties),
  } as unknown as Logger;
  const file = await Deno.makeTempFile();
  try {
    const line = `${HOST_TABLE.split("\n")[1]}\n`;
    await Deno.writeTextFile(file, line.repeat(Math.ceil(17 * 1024 * 1024 / line.length)));
    assert.deepEqual(await readHostMounts({ path: file, timeoutMs: 30_000, logger }), []);
    assert.match(JSON.stringify(warnings), /larger than 16777216 bytes/);
  } finally {
    await Deno.remove(file);
  }
});
