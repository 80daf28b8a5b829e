import assert from "node:assert/strict";
import {
  mergeMountOptions,
  parseMountOptionList,
  requireMountOptions,
  splitMountOptions,
} from "./mount_options.ts";

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

Deno.test("parseMountOptionList() accepts the four SELinux context options, quoted or not", () => {
  const label = "system_u:object_r:container_file_t:s0:c0,c1";
  assert.deepEqual(
    parseMountOptionList(
      `flock,context="${label}",fscontext=system_u:object_r:fs_t:s0,` +
        `defcontext="system_u:object_r:default_t:s0",rootcontext="${label}"`,
    ),
    [
      "flock",
      `context="${label}"`,
      'fscontext="system_u:object_r:fs_t:s0"',
      'defcontext="system_u:object_r:default_t:s0"',
      `rootcontext="${label}"`,
    ],
  );
});

Deno.test("parseMountOptionList() splits only on commas outside quotes", () => {
  assert.deepEqual(
    parseMountOptionList('context="u:r:t:s0:c0,c1" , noatime,context="u:r:t:s0-s0:c0.c1023"'),
    ['context="u:r:t:s0:c0,c1"', "noatime", 'context="u:r:t:s0-s0:c0.c1023"'],
  );
});

Deno.test("parseMountOptionList() refuses malformed SELinux options by name", () => {
  const bad: [string, RegExp][] = [
    ['context="u:r:t:s0:c0,c1', /"context="u:r:t:s0:c0,c1" is refused: its quote is not closed/],
    ['flock,context="u:r:t:s0",defcontext="x', /"defcontext="x" is refused: its quote/],
    ["context=nolabel", /"context=nolabel" is refused: the value of "context" is not an SELinux/],
    ["rootcontext=", /"rootcontext=" is refused: the value of "rootcontext" is not an SELinux/],
    ['fscontext="u:r:"t:s0"', /"fscontext="u:r:"t:s0"" is refused: its quote is not closed/],
    [
      'fscontext="u:r:"t":s0"',
      /"fscontext=.*" is refused: the value of "fscontext" has unbalanced/,
    ],
    ['context="u:r:t:s0;reboot"', /value of "context" is not an SELinux label/],
    ["context", /"context" is refused: it is not a known/],
  ];
  for (const [text, pattern] of bad) assert.throws(() => parseMountOptionList(text), pattern, text);
});

Deno.test("requireMountOptions() asks for quotes around an SELinux label holding a comma", () => {
  assert.throws(
    () => requireMountOptions(["context=u:r:t:s0:c0,c1"]),
    /"context=u:r:t:s0:c0,c1" is refused: the value of "context" holds a comma: quote it/,
  );
});

Deno.test("splitMountOptions() keeps SELinux options with the client options (own shared mount)", () => {
  const options = parseMountOptionList('flock,noatime,context="u:r:t:s0:c0,c1"');
  assert.deepEqual(splitMountOptions(options), {
    vfs: ["noatime"],
    client: ["flock", 'context="u:r:t:s0:c0,c1"'],
  });
  assert.deepEqual(
    mergeMountOptions([options, ['context="u:r:t:s0:c2,c3"']]).filter((o) => o.includes("=")),
    ['context="u:r:t:s0:c2,c3"'],
  );
});
