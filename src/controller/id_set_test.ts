import assert from "node:assert/strict";
import { addId, hasId, type IdRanges, lowestFree, removeId } from "./id_set.ts";

Deno.test("addId() merges neighbours into one range", () => {
  let used: IdRanges = [];
  for (const id of [5, 7, 6, 1, 3, 2]) used = addId(used, id);
  assert.deepEqual(used, [[1, 3], [5, 7]]);
  assert.deepEqual(addId(used, 4), [[1, 7]]);
  assert.deepEqual(addId(used, 6), used);
});

Deno.test("removeId() splits a range; lowestFree() finds the hole first", () => {
  const used = removeId([[1, 10]], 4);
  assert.deepEqual(used, [[1, 3], [5, 10]]);
  assert.equal(lowestFree(used, 1, 100), 4);
  assert.equal(lowestFree(used, 5, 100), 11);
  assert.equal(lowestFree([[1, 10]], 1, 10), undefined);
  assert.equal(hasId(used, 4), false);
  assert.equal(hasId(used, 5), true);
});
