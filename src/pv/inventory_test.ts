import assert from "node:assert/strict";
import { InventoryError, parseInventory } from "./inventory.ts";

const GOOD = `
fileSystems:
  - name: scratch
    source: 10.0.0.1@tcp0:10.0.0.2@tcp0:/scratch
    mountOptions: flock,user_xattr
  - name: home
    source: mgs1@tcp:/home
volumes:
  - name: scratch-alpha
    fs: scratch
    subdir: projects/alpha/
    capacity: 10Ti
    mountOptions: [noflock, noatime]
    namespace: team-alpha
    claimName: alpha
  - name: home-all
    fs: home
    capacity: 500Gi
    accessModes: [ReadOnlyMany]
    namespace: default
`;

/** The problems of an inventory (it must have some). */
function problemsOf(text: string): readonly string[] {
  try {
    parseInventory(text);
  } catch (error) {
    if (error instanceof InventoryError) return error.problems;
    throw error;
  }
  assert.fail("the inventory was accepted");
}

/** GOOD with one volume field replaced (undefined removes it). */
function withVolume(fields: Record<string, unknown>): string {
  const volume: Record<string, unknown> = {
    name: "v1",
    fs: "scratch",
    capacity: "1Gi",
    namespace: "default",
    ...fields,
  };
  for (const [k, v] of Object.entries(volume)) if (v === undefined) delete volume[k];
  return JSON.stringify({
    fileSystems: [{ name: "scratch", source: "10.0.0.1@tcp:/scratch" }],
    volumes: [volume],
  });
}

Deno.test("parseInventory() reads file systems and volumes with their defaults", () => {
  const inventory = parseInventory(GOOD);
  assert.equal(inventory.fileSystems.length, 2);
  const [alpha, home] = inventory.volumes;
  assert.equal(alpha.fs.source, "10.0.0.1@tcp0:10.0.0.2@tcp0:/scratch");
  assert.equal(alpha.subdir, "projects/alpha");
  assert.deepEqual(alpha.mountOptions, ["user_xattr", "noflock", "noatime"]);
  assert.deepEqual(alpha.accessModes, ["ReadWriteMany"]);
  assert.equal(alpha.claimName, "alpha");
  assert.equal(home.subdir, "");
  assert.deepEqual(home.mountOptions, []);
  assert.equal(home.claimName, "home-all");
  assert.deepEqual(home.accessModes, ["ReadOnlyMany"]);
});

Deno.test("parseInventory() names the entry and the field of each bad volume value", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ name: "Bad_Name" }, /^volumes\[0\] "Bad_Name": name: "Bad_Name" is not a PV name/],
    [{ name: undefined }, /^volumes\[0\]: name: is required/],
    [{ fs: "nope" }, /^volumes\[0\] "v1": fs: "nope" is not a file system of the inventory/],
    [{ subdir: "../etc" }, /^volumes\[0\] "v1": subdir: "\.\.\/etc": path segment "\.\." is not/],
    [{ subdir: "/abs" }, /^volumes\[0\] "v1": subdir: "\/abs": it is an absolute path/],
    [{ capacity: "10 GB" }, /^volumes\[0\] "v1": capacity: "10 GB" is not a Kubernetes quantity/],
    [{ capacity: "0" }, /^volumes\[0\] "v1": capacity: "0" is less than one byte/],
    [{ capacity: undefined }, /^volumes\[0\] "v1": capacity: is required/],
    [{ accessModes: ["ReadWriteAll"] }, /accessModes: "ReadWriteAll" is not one of/],
    [{ accessModes: [] }, /accessModes: \[\] is not a non-empty list/],
    [{ accessModes: ["ReadWriteMany", "ReadWriteMany"] }, /"ReadWriteMany" is listed twice/],
    [{ mountOptions: "remount" }, /mountOptions: "remount": mount option "remount" is refused/],
    [{ namespace: undefined }, /^volumes\[0\] "v1": namespace: is required/],
    [{ namespace: "Team A" }, /namespace: "Team A" is not a namespace name/],
    [{ claimName: "a/b" }, /claimName: "a\/b" is not a PVC name/],
    [{ sizee: "1Gi" }, /^volumes\[0\] "v1": sizee: is not a known field/],
  ];
  for (const [fields, expected] of cases) {
    const problems = problemsOf(withVolume(fields));
    assert.equal(problems.length, 1, `${JSON.stringify(fields)}: ${problems.join("; ")}`);
    assert.match(problems[0], expected);
  }
});

Deno.test("parseInventory() names each bad file system", () => {
  const problems = problemsOf(JSON.stringify({
    fileSystems: [
      { name: "a", source: "10.0.0.1@tcp/fs" },
      { name: "b", source: "10.0.0.1@tcp:/b", mountOptions: "bind" },
      { name: "a", source: "10.0.0.1@tcp:/a" },
      { source: "10.0.0.1@tcp:/c" },
    ],
    volumes: [],
  }));
  assert.deepEqual(problems.map((p) => p.split(":").slice(0, 2).join(":")), [
    'fileSystems[0] "a": source',
    'fileSystems[1] "b": mountOptions',
    'fileSystems[2] "a": name',
    "fileSystems[3]: name",
  ]);
});

Deno.test("parseInventory() refuses duplicate PV names and claims, naming the later entry", () => {
  const volume = { fs: "fs", capacity: "1Gi", namespace: "ns" };
  const problems = problemsOf(JSON.stringify({
    fileSystems: [{ name: "fs", source: "10.0.0.1@tcp:/fs" }],
    volumes: [
      { ...volume, name: "one" },
      { ...volume, name: "one" },
      { ...volume, name: "two", claimName: "one" },
    ],
  }));
  assert.deepEqual(problems, [
    'volumes[1] "one": name: "one" is used by an earlier volume',
    'volumes[1] "one": claimName: PVC "ns/one" is claimed by an earlier volume',
    'volumes[2] "two": claimName: PVC "ns/one" is claimed by an earlier volume',
  ]);
});

Deno.test("parseInventory() refuses a file that is not an inventory", () => {
  const cases: [string, RegExp][] = [
    ["a: [", /^the file is not YAML/],
    ["- 1", /^the file is not a map/],
    ["fileSystems: []", /^volumes: is required/],
    ["fileSystems: []\nvolumes: []", /^volumes: lists no volumes/],
    ["fileSystems: {}\nvolumes: []", /^fileSystems: is not a list/],
    ["fileSystem: []\nfileSystems: []\nvolumes: []", /^the inventory: fileSystem: is not a known/],
    ["fileSystems: []\nvolumes: [3]", /^volumes\[0\]: is not a map/],
  ];
  for (const [text, expected] of cases) assert.match(problemsOf(text)[0], expected, text);
});
