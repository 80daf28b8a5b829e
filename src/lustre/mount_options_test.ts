import assert from "node:assert/strict";
import { mergeMountOptions, parseMountOptionList, splitMountOptions } from "./mount_options.ts";

Deno.test("parseMountOptionList() accepts client options and drops meaningless ones", () => {
  assert.deepEqual(
    parseMountOptionList("flock, user_xattr,_netdev,defaults,network=o2ib1,retry=3"),
    [
      "flock",
      "user_xattr",
      "network=o2ib1",
      "retry=3",
    ],
  );
});

Deno.test("parseMountOptionList() refuses unknown, dangerous and malformed options by name", () => {
  const bad: [string, RegExp][] = [
    ["exclusive", /"exclusive" is refused: it is not a known/],
    ["force", /"force" is refused: it skips/],
    ["abort_recov", /server option/],
    ["network", /needs a value/],
    ["network=tcp;reboot", /characters/],
    ["retry=100", /value of "retry"/],
    ["flock=1", /takes a value/],
    ["a".repeat(200), /longer than/],
  ];
  for (const [text, pattern] of bad) assert.throws(() => parseMountOptionList(text), pattern, text);
});

Deno.test("mergeMountOptions() lets a later layer replace an option of the same family", () => {
  const merged = mergeMountOptions([["flock", "user_xattr"], ["noatime"], ["noflock", "ro"]]);
  assert.deepEqual(merged.sort(), ["noatime", "noflock", "ro", "user_xattr"]);
  assert.deepEqual(splitMountOptions(merged), {
    vfs: merged.filter((o) => o === "noatime" || o === "ro"),
    client: merged.filter((o) => o === "user_xattr" || o === "noflock"),
  });
});
