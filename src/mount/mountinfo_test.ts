import assert from "node:assert/strict";
import { isReadOnly, mountAt, parseMountInfo, sameDirectory } from "./mountinfo.ts";

const TEXT = [
  "36 25 0:45 / /mnt/lustre rw,relatime shared:20 - lustre 10.1.1.67@tcp:/xeo3rbev rw,flock,lazystatfs",
  "37 25 0:45 /sub /var/lib/kubelet/staging\\040dir ro,relatime master:20 - lustre 10.1.1.67@tcp:/xeo3rbev rw,flock",
  "38 25 0:45 /sub /var/lib/kubelet/pods/x rw - lustre 10.1.1.67@tcp:/xeo3rbev rw",
  "",
].join("\n");

Deno.test("parseMountInfo() reads fields, optional fields and escapes", () => {
  const mounts = parseMountInfo(TEXT);
  assert.equal(mounts.length, 3);
  assert.equal(mounts[1].mountPoint, "/var/lib/kubelet/staging dir");
  assert.equal(mounts[1].root, "/sub");
  assert.deepEqual(mounts[1].optionalFields, ["master:20"]);
  assert.equal(mounts[2].optionalFields.length, 0);
  assert.equal(mounts[0].source, "10.1.1.67@tcp:/xeo3rbev");
  assert.equal(mounts[0].major, 0);
  assert.equal(mounts[0].minor, 45);
  assert.ok(isReadOnly(mounts[1]));
  assert.ok(sameDirectory(mounts[1], mounts[2]));
  assert.ok(!sameDirectory(mounts[0], mounts[1]));
  assert.equal(mountAt(mounts, "/var/lib/kubelet/pods/x")?.id, 38);
  assert.throws(() => parseMountInfo("garbage line"), SyntaxError);
});

Deno.test("mountAt() finds the topmost mount among hundreds, and sees mounts added since", () => {
  const lines = Array.from(
    { length: 300 },
    (_, i) => `${100 + i} 25 0:45 /v${i} /k/pods/p${i % 150} rw - lustre 10.1.1.67@tcp:/fs rw`,
  );
  const mounts = parseMountInfo(lines.join("\n"));
  assert.equal(mountAt(mounts, "/k/pods/p7")?.id, 100 + 157, "the later of the two at p7");
  assert.equal(mountAt(mounts, "/k/pods/p149")?.root, "/v299");
  assert.equal(mountAt(mounts, "/k/pods/none"), undefined);
  mounts.push(...parseMountInfo("999 25 0:45 /top /k/pods/p7 rw - lustre 10.1.1.67@tcp:/fs rw"));
  assert.equal(mountAt(mounts, "/k/pods/p7")?.id, 999, "a mount added to the list covers p7");
});
