import assert from "node:assert/strict";
import { findContainingMount, formatDev, isWithin, parseMountInfo } from "./mountinfo.ts";

const SAMPLE = [
  "25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
  "64 25 0:40 / /tmp/s/srv/fs1/backing\\040store rw - tmpfs lustre-sim-fs1 rw,size=1048576k",
  "67 25 0:41 /sub /mnt/b ro - fuse.lustre 10.0.0.1@tcp:/fs1 rw,user_id=0",
].join("\n");

Deno.test("parseMountInfo() reads fields and unescapes paths", () => {
  const [root, tmpfs, bind] = parseMountInfo(SAMPLE);
  assert.equal(root.mountPoint, "/");
  assert.equal(root.fsType, "ext4");
  assert.equal(tmpfs.mountPoint, "/tmp/s/srv/fs1/backing store");
  assert.equal(bind.id, 67);
  assert.equal(bind.dev, "0:41");
  assert.equal(bind.root, "/sub");
  assert.equal(bind.source, "10.0.0.1@tcp:/fs1");
  assert.equal(bind.options, "ro");
});

Deno.test("findContainingMount() picks the deepest mount point", () => {
  const entries = parseMountInfo(SAMPLE);
  assert.equal(findContainingMount(entries, "/mnt/b/x")?.id, 67);
  assert.equal(findContainingMount(entries, "/mnt/bb")?.id, 25);
  assert.ok(isWithin("/a/b", "/a"));
  assert.ok(!isWithin("/ab", "/a"));
});

Deno.test("formatDev() splits glibc device numbers", () => {
  assert.equal(formatDev(0x28), "0:40");
  assert.equal(formatDev((8 << 8) | 1), "8:1");
  assert.equal(formatDev(0x100000), "0:256");
});
