import assert from "node:assert/strict";
import { parseProjectQuota } from "./project_quota.ts";

Deno.test("parseProjectQuota() reads the 2.15 layout, wrapped paths and exceeded limits", () => {
  const short = `Disk quotas for prj 1000 (pid 1000):
     Filesystem  kbytes   quota   limit   grace   files   quota   limit   grace
         /mnt/q       4       0 1048576       -       2       0    5000       -
`;
  assert.deepEqual(parseProjectQuota(short, 1000), {
    projectId: 1000,
    usedBytes: 4096,
    limitBytes: 1073741824,
    usedInodes: 2,
    limitInodes: 5000,
  });
  const wrapped = `Disk quotas for prj 7 (pid 7):
     Filesystem  kbytes   quota   limit   grace   files   quota   limit   grace
/var/lib/kubelet/pods/x/volumes/mount
                2048*    1024       0 6d23h59m58s       1       0       0       -
`;
  const q = parseProjectQuota(wrapped, 7);
  assert.equal(q.usedBytes, 2048 * 1024);
  assert.equal(q.limitBytes, 1024 * 1024, "the soft limit stands in when there is no hard one");
  assert.equal(q.limitInodes, 0);
  assert.throws(() => parseProjectQuota("prj quotas are not enabled.", 1), SyntaxError);
});
