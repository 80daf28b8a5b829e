import assert from "node:assert/strict";
import { UnlockedVolumes } from "./unlocked_volumes.ts";

Deno.test("UnlockedVolumes remembers, recalls, lists and forgets staging paths", async () => {
  const dir = await Deno.makeTempDir({ prefix: "klustre-unlocked-" });
  try {
    const volumes = new UnlockedVolumes(dir);
    assert.equal(await volumes.recall("/k/a"), undefined);
    assert.deepEqual(await volumes.all(), []);
    const a = { staging: "/k/a", volumeId: "va", keyIdentifier: "1".repeat(32), mountPath: "/m" };
    const b = { staging: "/k/b", volumeId: "vb", keyIdentifier: "2".repeat(32), mountPath: "/m" };
    await volumes.remember(a);
    await volumes.remember(b);
    assert.deepEqual(await volumes.recall("/k/a"), a);
    assert.deepEqual((await volumes.all()).map((v) => v.volumeId).sort(), ["va", "vb"]);
    await volumes.forget("/k/a");
    await volumes.forget("/k/a");
    assert.deepEqual(await volumes.all(), [b]);
    assert.equal((await Deno.stat(`${dir}/unlocked`)).mode! & 0o777, 0o700);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
