import assert from "node:assert/strict";
import { removeTree } from "./remove_tree.ts";

async function tempTree() {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "klustre-rt-" }));
  const trash = `${root}/trash`;
  await Deno.mkdir(`${trash}/t1/tree/a/b`, { recursive: true });
  await Deno.mkdir(`${root}/outside`);
  await Deno.writeTextFile(`${root}/outside/precious`, "keep");
  for (let i = 0; i < 50; i++) await Deno.writeTextFile(`${trash}/t1/tree/a/f${i}`, "xx");
  await Deno.writeTextFile(`${trash}/t1/tree/a/b/deep`, "yyy");
  await Deno.symlink(`${root}/outside`, `${trash}/t1/tree/link`);
  return { root, trash };
}

Deno.test("removeTree() deletes the tree and unlinks symlinks without following them", async () => {
  const { root, trash } = await tempTree();
  try {
    const count = await removeTree(`${trash}/t1/tree`, {
      inside: trash,
      parallel: 4,
      timeoutMs: 10_000,
    });
    await assert.rejects(Deno.lstat(`${trash}/t1/tree`), Deno.errors.NotFound);
    assert.equal(await Deno.readTextFile(`${root}/outside/precious`), "keep");
    assert.equal(count.bytes, 50 * 2 + 3);
    assert.equal(count.files, 50 + 1 + 1 + 2);
    assert.deepEqual(
      await removeTree(`${trash}/t1/tree`, { inside: trash, parallel: 4, timeoutMs: 10_000 }),
      { files: 0, bytes: 0 },
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("removeTree() refuses paths outside its folder and directories that resolve elsewhere", async () => {
  const { root, trash } = await tempTree();
  try {
    await assert.rejects(
      removeTree(`${root}/outside`, { inside: trash, parallel: 1, timeoutMs: 10_000 }),
      /not inside/,
    );
    // A directory of the trash reached through a symlinked parent resolves elsewhere.
    await Deno.symlink(`${root}/outside`, `${trash}/t2`);
    await assert.rejects(
      removeTree(`${trash}/t2/.`, { inside: trash, parallel: 1, timeoutMs: 10_000 }),
      /left as it is/,
    );
    assert.equal(await Deno.readTextFile(`${root}/outside/precious`), "keep");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
