import assert from "node:assert/strict";
import { ownProject, projectOf, sumUsage, writeProject } from "./project.ts";

Deno.test("projectOf() inherits from the nearest inherit directory", () => {
  const root = Deno.makeTempDirSync({ prefix: "lustre-sim-project-" });
  try {
    Deno.mkdirSync(`${root}/vol/a/b`, { recursive: true });
    assert.deepEqual(projectOf(root, "/vol/a/b"), { id: 0, inherit: false });
    writeProject(`${root}/vol`, { id: 0, inherit: false }, { id: 7, inherit: true });
    // a existed before: pinned at its old value; entries created now inherit.
    assert.deepEqual(ownProject(`${root}/vol/a`), { id: 0, inherit: false });
    assert.deepEqual(projectOf(root, "/vol/a/b"), { id: 0, inherit: false });
    Deno.writeTextFileSync(`${root}/vol/new`, "x");
    assert.deepEqual(projectOf(root, "/vol/new"), { id: 7, inherit: true });
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("sumUsage() counts entries and KiB per project, user and group", () => {
  const root = Deno.makeTempDirSync({ prefix: "lustre-sim-usage-" });
  try {
    Deno.mkdirSync(`${root}/vol`);
    writeProject(`${root}/vol`, { id: 0, inherit: false }, { id: 9, inherit: true });
    Deno.writeFileSync(`${root}/vol/f`, new Uint8Array(8192));
    Deno.mkdirSync(`${root}/vol/d`);
    const usage = sumUsage(root);
    const p9 = usage.get("p:9")!;
    assert.equal(p9.inodes, 3);
    assert.ok(p9.kbytes >= 8, `${p9.kbytes} KiB`);
    assert.equal(usage.get("p:0")!.inodes, 1);
    assert.equal(usage.get(`u:${Deno.uid()}`)!.inodes, 4);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
