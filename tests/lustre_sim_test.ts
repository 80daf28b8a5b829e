/**
 * Integration tests of the Lustre simulator (scripts/lustre-sim): real tmpfs, bindfs and bind
 * mounts. Run as root inside `unshare --mount --propagation private` (see deno.json "test").
 */
import assert from "node:assert/strict";
import { statfsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type MountEntry, parseMountInfo } from "../scripts/lustre_sim/mountinfo.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const CLI = `${REPO}/scripts/lustre-sim`;
const IS_ROOT = Deno.uid() === 0;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Result> {
  const out = await new Deno.Command(cmd, { args, env, stdin: "null" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Reads mountinfo through `cat` and the simulator's own parser. */
function mountinfo(): MountEntry[] {
  const out = new Deno.Command("cat", { args: ["/proc/self/mountinfo"] }).outputSync();
  return parseMountInfo(new TextDecoder().decode(out.stdout));
}

function mountsUnder(dir: string): MountEntry[] {
  return mountinfo().filter((m) => m.mountPoint === dir || m.mountPoint.startsWith(`${dir}/`));
}

/** Live (non-zombie) bindfs processes whose arguments mention `dir`. */
function liveBindfsUnder(dir: string): string[] {
  const out = new Deno.Command("ps", { args: ["-eo", "stat=,args="] }).outputSync();
  return new TextDecoder().decode(out.stdout).split("\n")
    .map((l) => l.trim())
    .filter((l) => !l.startsWith("Z") && / \S*bindfs /.test(l) && l.includes(dir));
}

/** A simulator under a temp dir, torn down (down + rm) at scope exit. */
class Sim implements AsyncDisposable {
  readonly dir: string;
  readonly root: string;
  readonly mnt: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.root = `${dir}/sim`;
    this.mnt = `${dir}/mnt`;
  }

  static async up(stateJson?: unknown): Promise<Sim> {
    const sim = new Sim(Deno.makeTempDirSync({ prefix: "lustre-sim-test-" }));
    Deno.mkdirSync(sim.mnt);
    const args = ["up", "--root", sim.root];
    if (stateJson !== undefined) {
      const file = `${sim.dir}/state-in.json`;
      Deno.writeTextFileSync(file, JSON.stringify(stateJson));
      args.push("--state", file);
    }
    const r = await exec(CLI, args);
    assert.equal(r.code, 0, r.stderr);
    return sim;
  }

  /** Runs a stand-in from DIR/bin with a PATH that does not contain deno. */
  tool(name: string, args: string[]): Promise<Result> {
    return exec(`${this.root}/bin/${name}`, args, { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" });
  }

  cli(args: string[]): Promise<Result> {
    return exec(CLI, [...args.slice(0, 1), "--root", this.root, ...args.slice(1)]);
  }

  target(name: string): string {
    const path = `${this.mnt}/${name}`;
    Deno.mkdirSync(path, { recursive: true });
    return path;
  }

  calls(): { cmd: string; argv: string[]; exit: number | null; ms: number; hang?: boolean }[] {
    return Deno.readTextFileSync(`${this.root}/calls.jsonl`).trim().split("\n").filter((l) => l)
      .map((l) => JSON.parse(l));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await exec(CLI, ["down", "--root", this.root]);
    if (mountsUnder(this.dir).length === 0) Deno.removeSync(this.dir, { recursive: true });
  }
}

const opts = { ignore: !IS_ROOT, sanitizeResources: true, sanitizeOps: true };

Deno.test("lustre-sim up builds stand-ins, FUSE exports and the version file", opts, async () => {
  await using sim = await Sim.up();
  for (const tool of ["mount.lustre", "lfs", "lctl"]) {
    const st = Deno.statSync(`${sim.root}/bin/${tool}`);
    assert.ok(st.isFile && (st.mode! & 0o111) !== 0, tool);
  }
  assert.equal(Deno.readTextFileSync(`${sim.root}/sys/fs/lustre/version`), "2.15.6\n");
  const exports = mountsUnder(`${sim.root}/srv`).filter((m) => m.fsType === "fuse.lustre");
  assert.deepEqual(exports.map((m) => m.source).sort(), ["10.0.0.1@tcp:/fs1", "10.0.0.1@tcp:/fs2"]);
  // statfs passes through bindfs: the tmpfs size and inode count.
  const st = statfsSync(`${sim.root}/srv/fs1/export`);
  assert.equal(st.blocks * st.bsize, 1 << 30);
  assert.equal(st.files, 262144);
  const again = await exec(CLI, ["up", "--root", sim.root]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already has a running simulator/);
});

Deno.test("lustre-sim up --state reads a custom cluster", opts, async () => {
  await using sim = await Sim.up({
    version: "2.15.8",
    mgsNodes: [["192.168.1.10@o2ib"]],
    fileSystems: [{ name: "scratch", size: "64m", inodes: 5000 }],
  });
  const exports = mountsUnder(`${sim.root}/srv`).filter((m) => m.fsType === "fuse.lustre");
  assert.deepEqual(exports.map((m) => m.source), ["192.168.1.10@o2ib:/scratch"]);
  assert.equal(statfsSync(`${sim.root}/srv/scratch/export`).files, 5000);
  const v = await sim.tool("mount.lustre", ["-V"]);
  assert.equal(v.stdout, "mount.lustre 2.15.8 (libmount)\n");
});

Deno.test(
  "mount.lustre mounts a file system and a subdirectory that share data",
  opts,
  async () => {
    await using sim = await Sim.up();
    const a = sim.target("a");
    const b = sim.target("b");
    const r1 = await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1", a]);
    assert.equal(r1.code, 0, r1.stderr);
    Deno.mkdirSync(`${a}/sub`);
    const r2 = await sim.tool("mount.lustre", ["10.0.0.1@tcp0:10.0.0.2@tcp:/fs1/sub", b]);
    assert.equal(r2.code, 0, r2.stderr);
    Deno.writeTextFileSync(`${a}/sub/file`, "shared");
    assert.equal(Deno.readTextFileSync(`${b}/file`), "shared");

    const [ma] = mountinfo().filter((m) => m.mountPoint === a);
    const [mb] = mountinfo().filter((m) => m.mountPoint === b);
    assert.equal(ma.source, "10.0.0.1@tcp:/fs1");
    assert.equal(ma.fsType, "fuse.lustre");
    assert.equal(ma.root, "/fs1", "the fs root is a directory of the export, never its root");
    assert.equal(mb.source, "10.0.0.1@tcp:/fs1");
    assert.equal(mb.root, "/fs1/sub");
    assert.equal(ma.dev, mb.dev, "every mount of one fs shares its device");
    assert.equal(ma.options.split(",")[0], "rw");
    assert.ok(!ma.options.includes("relatime"), "strictatime unless asked");

    const calls = sim.calls().filter((c) => c.cmd === "mount.lustre");
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[0].argv, ["10.0.0.1@tcp:/fs1", a]);
    assert.equal(calls[0].exit, 0);
    assert.ok(Number.isInteger(calls[0].ms));
  },
);

Deno.test("mount.lustre takes options in helper order and applies ro", opts, async () => {
  await using sim = await Sim.up();
  const a = sim.target("a");
  const r = await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs2", a, "-o", "ro,flock,noatime"]);
  assert.equal(r.code, 0, r.stderr);
  const [m] = mountinfo().filter((e) => e.mountPoint === a);
  assert.deepEqual(m.options.split(",").slice(0, 2), ["ro", "noatime"]);
  assert.throws(() => Deno.writeTextFileSync(`${a}/x`, "x"), /Read-only file system/);
  const b = sim.target("b");
  const r2 = await sim.tool("mount.lustre", ["-v", "-o", "user_xattr", "mgs1@tcp:/fs2", b]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stdout, /source = mgs1@tcp:\/fs2 \(10\.0\.0\.1@tcp:\/fs2\)/);
});

Deno.test("mount.lustre refuses what real Lustre refuses", opts, async () => {
  await using sim = await Sim.up();
  const a = sim.target("a");
  const cases: [string[], number, RegExp][] = [
    [["10.0.0.1@tcp/fs1", a], 22, /^mount.lustre: Invalid mount string 10.0.0.1@tcp\/fs1\n/],
    [["10.0.0.x@tcp:/fs1", a], 22, /^mount.lustre: Can't parse NID '10.0.0.x@tcp:\/fs1'\n/],
    [["10.0.0.1@foo:/fs1", a], 22, /^mount.lustre: Unsupported NID '10.0.0.1@foo'\n/],
    [
      ["10.0.0.1@tcp:/nofs", a],
      2,
      new RegExp(
        `^mount.lustre: mount 10.0.0.1@tcp:/nofs at ${a} failed: No such file or directory\n` +
          "Is the MGS specification correct\\?\nIs the filesystem name correct\\?\n" +
          "If upgrading, is the copied client log valid\\? \\(see upgrade docs\\)\n$",
      ),
    ],
    [["10.0.0.1@tcp:/fs1/missing", a], 2, /failed: No such file or directory\n/],
    [
      ["10.0.0.1@tcp:/fs1", a, "-o", "flock,exclusive"],
      22,
      /failed: Invalid argument\nThis may have multiple causes.\nIs 'fs1' the correct filesystem name\?\nAre the mount options correct\?\nCheck the syslog for more info.\n$/,
    ],
    [["10.0.0.1@tcp:/fs1", a, "-o", "unique_fsid"], 22, /failed: Invalid argument\n/],
    [
      ["10.0.0.1@tcp:/fs1", `${sim.mnt}/absent`],
      2,
      /^warning: .*\/absent: cannot resolve: No such file or directory\n$/,
    ],
    [
      ["10.0.0.9@tcp:/fs1", a],
      5,
      /failed: Input\/output error\nIs the MGS running\?\n$/,
    ],
    [["-x", "10.0.0.1@tcp:/fs1", a], 22, /^mount.lustre: unknown option 'x'\n/],
  ];
  for (const [argv, code, stderr] of cases) {
    const r = await sim.tool("mount.lustre", argv);
    assert.equal(r.code, code, `${argv.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, stderr, argv.join(" "));
  }
  assert.equal(mountsUnder(sim.mnt).length, 0);

  assert.equal((await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1", a])).code, 0);
  const dup = await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1", a]);
  assert.equal(dup.code, 17);
  assert.equal(
    dup.stderr,
    `mount.lustre: according to /etc/mtab 10.0.0.1@tcp:/fs1 is already mounted on ${a}\n`,
  );
  assert.equal((await sim.tool("mount.lustre", ["-o", "force", "10.0.0.1@tcp:/fs1", a])).code, 0);
  assert.equal(mountsUnder(a).length, 2);
});

Deno.test("mount.lustre gives unique_fsid mounts their own device from 2.15.8", opts, async () => {
  await using sim = await Sim.up();
  const v = await sim.cli(["fault", "version", "2.15.8"]);
  assert.equal(v.code, 0, v.stderr);
  const a = sim.target("a");
  const u = sim.target("u");
  assert.equal((await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1", a])).code, 0);
  const r = await sim.tool("mount.lustre", ["-o", "unique_fsid", "10.0.0.1@tcp:/fs1", u]);
  assert.equal(r.code, 0, r.stderr);
  const [ma] = mountinfo().filter((m) => m.mountPoint === a);
  const [mu] = mountinfo().filter((m) => m.mountPoint === u);
  assert.notEqual(ma.dev, mu.dev);
  assert.equal(mu.source, "10.0.0.1@tcp:/fs1");
  Deno.writeTextFileSync(`${a}/f`, "same data");
  assert.equal(Deno.readTextFileSync(`${u}/f`), "same data");
});

Deno.test("lustre-sim fault mgs-down fails mounts with EIO after the delay", opts, async () => {
  await using sim = await Sim.up();
  const a = sim.target("a");
  assert.equal((await sim.cli(["fault", "mgs-down", "--delay-ms", "400"])).code, 0);
  const t0 = performance.now();
  const r = await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1", a]);
  assert.ok(performance.now() - t0 >= 400);
  assert.equal(r.code, 5);
  assert.equal(
    r.stderr,
    `mount.lustre: mount 10.0.0.1@tcp:/fs1 at ${a} failed: Input/output error\nIs the MGS running?\n`,
  );
  assert.equal((await sim.cli(["fault", "mgs-up"])).code, 0);
  assert.equal((await sim.cli(["fault", "mgs-down", "--nid", "10.0.0.1@tcp"])).code, 0);
  assert.equal((await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1", a])).code, 5);
  const failover = await sim.tool("mount.lustre", ["10.0.0.1@tcp:10.0.0.2@tcp:/fs1", a]);
  assert.equal(failover.code, 0, failover.stderr);
});

Deno.test("lustre-sim fault modules-missing fails mounts with ENODEV", opts, async () => {
  await using sim = await Sim.up();
  const a = sim.target("a");
  assert.equal((await sim.cli(["fault", "modules-missing", "on"])).code, 0);
  assert.throws(() => Deno.statSync(`${sim.root}/sys/fs/lustre/version`), Deno.errors.NotFound);
  const r = await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1", a]);
  assert.equal(r.code, 19);
  assert.equal(
    r.stderr,
    `mount.lustre: mount 10.0.0.1@tcp:/fs1 at ${a} failed: No such device\n` +
      "Are the lustre modules loaded?\n Check /etc/modprobe.conf and /proc/filesystems\n",
  );
  assert.equal((await sim.cli(["fault", "modules-missing", "off"])).code, 0);
  assert.equal(Deno.readTextFileSync(`${sim.root}/sys/fs/lustre/version`), "2.15.6\n");
  assert.equal((await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1", a])).code, 0);
});

Deno.test("lustre-sim fault hang blocks mount.lustre until it is killed", opts, async () => {
  await using sim = await Sim.up();
  const a = sim.target("a");
  assert.equal((await sim.cli(["fault", "hang", "on"])).code, 0);
  const child = new Deno.Command(`${sim.root}/bin/mount.lustre`, {
    args: ["10.0.0.1@tcp:/fs1", a],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 1500));
  assert.equal(await Promise.race([child.status.then(() => "exited"), timeout]), "timeout");
  child.kill("SIGKILL");
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL");
  assert.equal(mountsUnder(a).length, 0);
  const [call] = sim.calls();
  assert.equal(call.hang, true);
  assert.equal(call.exit, null);
  assert.equal((await sim.cli(["fault", "hang", "off"])).code, 0);
  assert.equal((await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1", a])).code, 0);
});

Deno.test("lustre-sim fault slow delays mount.lustre", opts, async () => {
  await using sim = await Sim.up();
  const a = sim.target("a");
  assert.equal((await sim.cli(["fault", "slow", "--delay-ms", "600"])).code, 0);
  const r = await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1", a]);
  assert.equal(r.code, 0);
  assert.ok(sim.calls()[0].ms >= 600);
  assert.equal((await sim.cli(["fault", "slow", "off"])).code, 0);
  assert.equal((await sim.cli(["fault", "slow"])).code, 2);
});

Deno.test("lustre-sim fault evict breaks every mount with ENOTCONN", opts, async () => {
  await using sim = await Sim.up();
  const a = sim.target("a");
  const b = sim.target("b");
  const other = sim.target("other");
  assert.equal((await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1", a])).code, 0);
  Deno.mkdirSync(`${a}/sub`);
  Deno.writeTextFileSync(`${a}/sub/f`, "kept");
  assert.equal((await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1/sub", b])).code, 0);
  assert.equal((await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs2", other])).code, 0);
  const r = await sim.cli(["fault", "evict", "fs1"]);
  assert.equal(r.code, 0, r.stderr);
  for (const path of [a, `${b}/f`]) {
    assert.throws(() => Deno.statSync(path), /Transport endpoint is not connected/);
  }
  Deno.statSync(other);
  // The next mount reconnects: a fresh export, same data.
  const c = sim.target("c");
  assert.equal((await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1", c])).code, 0);
  assert.equal(Deno.readTextFileSync(`${c}/sub/f`), "kept");
  assert.equal((await sim.cli(["fault", "evict", "nofs"])).code, 2);
});

Deno.test("lustre-sim fault freeze blocks every access until thaw", opts, async () => {
  await using sim = await Sim.up();
  const a = sim.target("a");
  const b = sim.target("b");
  const other = sim.target("other");
  assert.equal((await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1", a])).code, 0);
  Deno.writeTextFileSync(`${a}/f`, "kept");
  assert.equal((await exec("mount", ["--bind", a, b])).code, 0);
  assert.equal((await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs2", other])).code, 0);
  const r = await sim.cli(["fault", "freeze", "fs1"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /freeze fs1: 1 FUSE daemon\(s\) stopped/);
  // Blocked, not failed: `timeout` has to kill the readers (exit 124).
  const reader = new Deno.Command("cat", { args: [`${b}/f`], stdout: "piped" }).spawn();
  for (const path of [a, `${b}/f`]) {
    assert.equal((await exec("timeout", ["0.5", "stat", path])).code, 124, path);
  }
  assert.equal((await exec("timeout", ["5", "stat", other])).code, 0, "fs2 still answers");
  assert.equal((await sim.cli(["fault", "thaw", "fs1"])).code, 0);
  const { code, stdout } = await reader.output();
  assert.equal(code, 0);
  assert.equal(new TextDecoder().decode(stdout), "kept", "the blocked read returns after thaw");
  assert.equal((await exec("timeout", ["5", "stat", a])).code, 0);
  assert.equal((await sim.cli(["fault", "freeze", "nofs"])).code, 2);
  // down thaws before it unmounts and stops the daemons.
  assert.equal((await sim.cli(["fault", "freeze", "fs1"])).code, 0);
  assert.equal((await sim.cli(["down"])).code, 0);
  assert.deepEqual(mountsUnder(sim.mnt), []);
  assert.deepEqual(liveBindfsUnder(sim.root), []);
});

Deno.test("lustre-sim down removes every mount and process and is safe twice", opts, async () => {
  const sim = await Sim.up();
  const a = sim.target("a");
  assert.equal((await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1", a])).code, 0);
  // A driver-style bind mount of the Lustre mount elsewhere.
  const pub = sim.target("publish");
  assert.equal((await exec("mount", ["--bind", a, pub])).code, 0);
  await sim.cli(["fault", "hang", "on"]);
  const hung = new Deno.Command(`${sim.root}/bin/mount.lustre`, {
    args: ["10.0.0.1@tcp:/fs2", sim.target("h")],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await new Promise((resolve) => setTimeout(resolve, 300));

  const r = await exec(CLI, ["down", "--root", sim.root]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await hung.status).success, false);
  assert.deepEqual(mountsUnder(sim.dir), []);
  assert.deepEqual(liveBindfsUnder(sim.root), []);
  assert.deepEqual(
    [...Deno.readDirSync(sim.root)].map((e) => e.name),
    ["calls.jsonl"],
  );
  const again = await exec(CLI, ["down", "--root", sim.root]);
  assert.equal(again.code, 0);
  const never = await exec(CLI, ["down", "--root", `${sim.dir}/never-built`]);
  assert.equal(never.code, 0);
  await sim[Symbol.asyncDispose]();
});

/** Mounts fs1 at `mnt/a` and returns its path. */
async function mountFs1(sim: Sim, name = "a"): Promise<string> {
  const target = sim.target(name);
  const r = await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1", target]);
  assert.equal(r.code, 0, r.stderr);
  return target;
}

Deno.test("lfs project sets, lists, checks and clears project IDs", opts, async () => {
  await using sim = await Sim.up();
  const a = await mountFs1(sim);
  const vol = `${a}/vol`;
  Deno.mkdirSync(`${vol}/sub/deep`, { recursive: true });
  Deno.writeTextFileSync(`${vol}/f`, "x");
  const lfs = (...args: string[]) => sim.tool("lfs", args);

  assert.deepEqual(await lfs("project", "-d", vol), {
    code: 0,
    stdout: `    0 - ${vol}\n`,
    stderr: "",
  });
  assert.deepEqual(await lfs("project", "-p", "1000", "-s", vol), {
    code: 0,
    stdout: "",
    stderr: "",
  });
  assert.equal((await lfs("project", "-d", vol)).stdout, ` 1000 P ${vol}\n`);
  // Without -r, set touches DIR and its children only; without -d, list skips DIR.
  const listed = (await lfs("project", vol)).stdout.split("\n").filter((l) => l).sort();
  assert.deepEqual(listed, [` 1000 P ${vol}/f`, ` 1000 P ${vol}/sub`]);
  assert.equal((await lfs("project", "-d", `${vol}/sub/deep`)).stdout, `    0 - ${vol}/sub/deep\n`);
  const check = await lfs("project", "-c", "-r", vol);
  assert.equal(check.code, 0);
  assert.equal(
    check.stdout,
    `${vol}/sub/deep - project inheritance flag is not set\n` +
      `${vol}/sub/deep - project identifier is not set (inode=0, tree=1000)\n`,
  );
  assert.equal((await lfs("project", "-p", "1000", "-s", "-r", vol)).code, 0);
  assert.equal((await lfs("project", "-c", "-r", vol)).stdout, "");
  // New entries under an inherit directory get its project.
  Deno.writeTextFileSync(`${vol}/sub/new`, "y");
  assert.equal((await lfs("project", "-d", `${vol}/sub/new`)).stdout, ` 1000 P ${vol}/sub/new\n`);
  assert.equal((await lfs("project", "-C", "-k", "-d", vol)).code, 0);
  assert.equal((await lfs("project", "-d", vol)).stdout, ` 1000 - ${vol}\n`);
  assert.equal((await lfs("project", "-C", "-d", vol)).code, 0);
  assert.equal((await lfs("project", "-d", vol)).stdout, `    0 - ${vol}\n`);

  const clash = await lfs("project", "-c", "-s", vol);
  assert.equal(clash.code, 4);
  assert.match(clash.stderr, /lfs: cannot specify '-c' '-C' '-s' together/);
  assert.match(clash.stdout, /^project: Change or list project attribute/);
  assert.equal((await lfs("project")).code, 4);
  const missing = await lfs("project", "-d", `${a}/absent`);
  assert.deepEqual([missing.code, missing.stderr], [
    1,
    `lfs: failed to stat '${a}/absent': No such file or directory\n`,
  ]);
  const notLustre = await lfs("project", "-d", sim.dir);
  assert.equal(notLustre.code, 25);
  assert.match(notLustre.stderr, /Inappropriate ioctl for device/);
});

Deno.test(
  "lfs setquota and lfs quota report limits and usage in the 2.15 format",
  opts,
  async () => {
    await using sim = await Sim.up();
    const a = await mountFs1(sim);
    Deno.mkdirSync(`${a}/vol`);
    const lfs = (...args: string[]) => sim.tool("lfs", args);
    assert.equal((await lfs("project", "-p", "1000", "-s", `${a}/vol`)).code, 0);
    Deno.writeFileSync(`${a}/vol/data`, new Uint8Array(100 * 1024));
    const set = await lfs("setquota", "-p", "1000", "-B", "1g", "-I", "5000", a);
    assert.deepEqual(set, { code: 0, stdout: "", stderr: "" });
    const header =
      "     Filesystem  kbytes   quota   limit   grace   files   quota   limit   grace\n";
    const q = await lfs("quota", "-p", "1000", a);
    assert.equal(q.code, 0);
    const mnt = a.length > 15 ? `${a}\n${" ".repeat(15)}` : a.padStart(15);
    assert.equal(
      q.stdout,
      "Disk quotas for prj 1000 (pid 1000):\n" + header +
        `${mnt}     100       0 1048576       -       2       0    5000       -\n`,
    );
    const h = await lfs("quota", "-h", "-p", "1000", a);
    assert.ok(h.stdout.includes("  Filesystem    used   quota   limit"), h.stdout);
    assert.ok(
      h.stdout.endsWith("    100k      0k      1G       -       2       0    5000       -\n"),
    );
    // A short mount path stays on one line.
    const short = `/tmp/lq${Date.now() % 100000}`;
    Deno.mkdirSync(short);
    try {
      assert.equal((await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1", short])).code, 0);
      const row = (await lfs("quota", "-q", "-p", "1000", short)).stdout;
      assert.equal(
        row,
        `${short.padStart(15)}     100       0 1048576       -       2       0    5000       -\n`,
      );
      await exec("umount", [short]);
    } finally {
      Deno.removeSync(short);
    }
    const warn = await lfs("setquota", "-p", "1000", "-b", "512", a);
    assert.equal(warn.code, 0);
    assert.equal(
      warn.stderr,
      "lfs setquota: warning: block softlimit '512' smaller than minimum qunit size\n" +
        "See 'lfs help setquota' or Lustre manual for details\n",
    );
    assert.match((await lfs("quota", "-p", "1000", a)).stdout, / 100\*? +512 1048576 /);

    const root = await lfs("setquota", "-p", "0", "-B", "1g", a);
    assert.deepEqual([root.code, root.stderr], [
      1,
      "lfs setquota: can't set quota for root usr/group/project.\n",
    ]);
    const none = await lfs("setquota", "-p", "1000", a);
    assert.equal(none.code, 4);
    assert.match(none.stderr, /at least one limit must be specified/);
    const off = await lfs("setquota", "-p", "1000", "-B", "1g", sim.dir);
    assert.equal(off.code, 25);
    assert.match(off.stderr, /^lfs setquota: quotactl failed: Inappropriate ioctl for device\n/);
    assert.equal((await lfs("quota", "-p", "1000")).code, 4);
  },
);

Deno.test("lfs df prints MDT and OST rows and a summary", opts, async () => {
  await using sim = await Sim.up();
  const a = await mountFs1(sim);
  const lfs = (...args: string[]) => sim.tool("lfs", args);
  const df = await lfs("df", a);
  assert.equal(df.code, 0);
  const lines = df.stdout.split("\n");
  assert.equal(
    lines[0],
    "UUID                   1K-blocks        Used   Available Use% Mounted on",
  );
  assert.match(lines[1], new RegExp(`^fs1-MDT0000_UUID +\\d+ +\\d+ +\\d+ +\\d+% ${a}\\[MDT:0\\]$`));
  assert.match(
    lines[2],
    new RegExp(`^fs1-OST0000_UUID +524288 +\\d+ +\\d+ +\\d+% ${a}\\[OST:0\\]$`),
  );
  assert.match(
    lines[3],
    new RegExp(`^fs1-OST0001_UUID +524288 +\\d+ +\\d+ +\\d+% ${a}\\[OST:1\\]$`),
  );
  assert.equal(lines[4], "");
  assert.match(lines[5], new RegExp(`^filesystem_summary: +1048576 +\\d+ +\\d+ +\\d+% ${a}$`));
  assert.deepEqual(lines.slice(6), ["", ""]);
  const inodes = await lfs("df", "-i", a);
  assert.match(inodes.stdout, /^UUID +Inodes +IUsed +IFree IUse% Mounted on\n/);
  assert.match(inodes.stdout, /\nfilesystem_summary: +262144 /);
  assert.match((await lfs("df", "-h", a)).stdout, /^UUID +bytes +Used +Available/);
  assert.match((await lfs("df", "-h", a)).stdout, /filesystem_summary: +1024\.0M /);
  assert.equal((await lfs("df")).stdout, df.stdout);
  const other = await lfs("df", sim.dir);
  assert.deepEqual(other, {
    code: 95,
    stdout: `df:${sim.dir} Not a Lustre filesystem\n`,
    stderr: "",
  });
  const gone = await lfs("df", `${sim.dir}/absent`);
  assert.equal(gone.code, 2);
  assert.equal(gone.stderr, `error: invalid path '${sim.dir}/absent': No such file or directory\n`);
});

Deno.test("lfs getname prints one instance per client mount", opts, async () => {
  await using sim = await Sim.up();
  const a = await mountFs1(sim, "a");
  const b = await mountFs1(sim, "b");
  const lfs = (...args: string[]) => sim.tool("lfs", args);
  const all = await lfs("getname");
  const m = /^(fs1-ffff88[0-9a-f]{10}) (.*)\n(fs1-ffff88[0-9a-f]{10}) (.*)\n$/.exec(all.stdout);
  assert.ok(m, all.stdout);
  assert.deepEqual([m[2], m[4]], [a, b]);
  assert.notEqual(m[1], m[3]);
  assert.equal((await lfs("getname", a)).stdout, `${m[1]}\n`);
  assert.equal((await lfs("getname", "-n", b)).stdout, "fs1\n");
  assert.equal((await lfs("getname", "-i", b)).stdout, `${m[3].slice(4)}\n`);
  const bad = await lfs("getname", sim.dir);
  assert.equal(bad.code, 25);
  assert.equal(
    bad.stderr,
    `cannot get instance for '${sim.dir}': Inappropriate ioctl for device\n`,
  );
});

Deno.test("lfs setstripe, getstripe and mkdir keep layouts", opts, async () => {
  await using sim = await Sim.up({
    fileSystems: [{ name: "fs1", osts: 4, mdts: 2, pools: { flash: [0, 1] } }],
  });
  const a = await mountFs1(sim);
  const lfs = (...args: string[]) => sim.tool("lfs", args);
  Deno.mkdirSync(`${a}/d`);
  assert.equal(
    (await lfs("getstripe", "-d", `${a}/d`)).stdout,
    "stripe_count:  1 stripe_size:   1048576 pattern:       raid0 stripe_offset: -1\n",
  );
  assert.equal((await lfs("setstripe", "-c", "-1", "-S", "4M", "-p", "flash", `${a}/d`)).code, 0);
  assert.equal(
    (await lfs("getstripe", "-d", `${a}/d`)).stdout,
    "stripe_count:  -1 stripe_size:   4194304 pattern:       raid0 stripe_offset: -1 pool:          flash\n",
  );
  assert.equal((await lfs("getstripe", "-S", `${a}/d`)).stdout, "4194304\n");
  assert.equal((await lfs("setstripe", "-d", `${a}/d`)).code, 0);
  assert.equal((await lfs("getstripe", "-c", `${a}/d`)).stdout, "1\n");
  const pool = await lfs("setstripe", "-p", "nope", `${a}/d`);
  assert.deepEqual([pool.code, pool.stderr], [
    22,
    "lfs setstripe: pool 'fs1.nope' does not exist\n",
  ]);
  assert.equal((await lfs("pool_list", a)).stdout, "Pools from fs1:\nfs1.flash\n");
  assert.equal(
    (await lfs("pool_list", "fs1.flash")).stdout,
    "Pool: fs1.flash\nfs1-OST0000_UUID\nfs1-OST0001_UUID\n",
  );
  assert.equal((await lfs("pool_list", "fs1.nope")).code, 2);
  assert.equal((await lfs("setstripe", "-S", "100k", `${a}/d`)).code, 22);
  assert.equal((await lfs("setstripe", "-c", "2", `${a}/file`)).code, 0);
  assert.ok(
    (await lfs("getstripe", `${a}/file`)).stdout.startsWith(`${a}/file\nlmm_stripe_count:  2\n`),
  );

  assert.equal((await lfs("mkdir", "-i", "1", `${a}/m1`)).code, 0);
  assert.ok(Deno.statSync(`${a}/m1`).isDirectory);
  assert.equal(
    (await lfs("getdirstripe", `${a}/m1`)).stdout,
    "lmv_stripe_count: 0 lmv_stripe_offset: 1 lmv_hash_type: none\n",
  );
  assert.equal((await lfs("mkdir", "-c", "2", `${a}/m2`)).code, 0);
  assert.match(
    (await lfs("getdirstripe", `${a}/m2`)).stdout,
    /^lmv_stripe_count: 2 .* fnv_1a_64\n$/,
  );
  const exists = await lfs("mkdir", "-i", "0", `${a}/m1`);
  assert.deepEqual([exists.code, exists.stderr], [
    17,
    `lfs setdirstripe: cannot create dir '${a}/m1': File exists\n`,
  ]);
  assert.equal((await lfs("mkdir", "-i", "5", `${a}/m3`)).code, 22);
});

Deno.test("lfs --version and unknown commands", opts, async () => {
  await using sim = await Sim.up();
  assert.deepEqual(await sim.tool("lfs", ["--version"]), {
    code: 0,
    stdout: "lfs 2.15.6\n",
    stderr: "",
  });
  const bad = await sim.tool("lfs", ["frobnicate"]);
  assert.deepEqual([bad.code, bad.stderr], [
    1,
    "lfs: 'frobnicate' is not a valid command. See 'lfs --list-commands'.\n",
  ]);
  await sim.cli(["fault", "version", "2.15.8"]);
  assert.equal((await sim.tool("lfs", ["--version"])).stdout, "lfs 2.15.8\n");
  assert.equal((await sim.tool("lctl", ["--version"])).stdout, "lctl 2.15.8\n");
});

Deno.test("lctl get_param and set_param keep tunables per instance", opts, async () => {
  await using sim = await Sim.up();
  const a = await mountFs1(sim);
  const lctl = (...args: string[]) => sim.tool("lctl", args);
  assert.equal((await lctl("get_param", "version")).stdout, "version=2.15.6\n");
  assert.equal((await lctl("get_param", "-n", "version")).stdout, "2.15.6\n");
  const inst = (await sim.tool("lfs", ["getname", a])).stdout.trim();
  assert.equal(
    (await lctl("get_param", "llite.*.max_read_ahead_mb")).stdout,
    `llite.${inst}.max_read_ahead_mb=256\n`,
  );
  const osc = `fs1-OST0000-osc-${inst.slice(4)}`;
  assert.match(
    (await lctl("get_param", "osc.*.max_rpcs_in_flight")).stdout,
    new RegExp(`^osc.${osc}.max_rpcs_in_flight=8\n`),
  );
  const set = await lctl("set_param", "osc.*.max_rpcs_in_flight=16");
  assert.equal(set.code, 0);
  assert.equal(set.stdout.split("\n").filter((l) => l).length, 2);
  assert.equal((await lctl("get_param", "-n", `osc.${osc}.max_rpcs_in_flight`)).stdout, "16\n");
  const bad = await lctl("set_param", `osc.${osc}.max_rpcs_in_flight=0`);
  assert.deepEqual([bad.code, bad.stderr], [
    22,
    `error: set_param: setting /sys/fs/lustre/osc/${osc}/max_rpcs_in_flight=0: Invalid argument\n`,
  ]);
  const none = await lctl("get_param", "llite.*.nosuch");
  assert.deepEqual([none.code, none.stderr], [
    2,
    "error: get_param: param_path 'llite/*/nosuch': No such file or directory\n",
  ]);
  assert.match(
    (await lctl("get_param", "llite.*.stats")).stdout,
    /^llite\..*\.stats=\nsnapshot_time +\d+\.\d{9} secs\.nsecs\n/,
  );
  // Tunables vanish with the mount.
  await exec("umount", [a]);
  assert.equal((await lctl("get_param", "llite.*.max_read_ahead_mb")).code, 2);
});

Deno.test("lctl list_nids and ping follow MGS reachability", opts, async () => {
  await using sim = await Sim.up();
  const lctl = (...args: string[]) => sim.tool("lctl", args);
  assert.equal((await lctl("list_nids")).stdout, "10.0.0.100@tcp\n");
  assert.deepEqual(await lctl("ping", "10.0.0.1@tcp0"), {
    code: 0,
    stdout: "12345-0@lo\n12345-10.0.0.1@tcp\n",
    stderr: "",
  });
  const far = await lctl("ping", "10.9.9.9@tcp");
  assert.deepEqual([far.code, far.stderr], [
    1,
    "failed to ping 10.9.9.9@tcp: Input/output error\n",
  ]);
  await sim.cli(["fault", "mgs-down", "--nid", "10.0.0.1@tcp"]);
  assert.equal((await lctl("ping", "10.0.0.1@tcp")).code, 1);
  assert.equal((await lctl("ping", "10.0.0.2@tcp")).code, 0);
  await sim.cli(["fault", "modules-missing", "on"]);
  const v = await lctl("get_param", "version");
  assert.deepEqual([v.code, v.stderr], [
    2,
    "error: get_param: param_path 'version': No such file or directory\n",
  ]);
  const nids = await lctl("list_nids");
  assert.equal(nids.code, 1);
  assert.match(nids.stderr, /hint: the kernel modules may not be loaded/);
});

Deno.test("lctl pcc add, list and del check datasets like the kernel", opts, async () => {
  await using sim = await Sim.up();
  const a = await mountFs1(sim);
  const cache = `${sim.dir}/cache`;
  Deno.mkdirSync(cache);
  const lctl = (...args: string[]) => sim.tool("lctl", ["pcc", ...args]);
  const inst = (await sim.tool("lfs", ["getname", a])).stdout.trim();
  assert.equal((await lctl("add", a, cache, "--param", "projid={500} rwid=1")).code, 0);
  assert.equal(
    (await lctl("list", a)).stdout,
    `${cache}:\n  rwid: 1\n  flags: 3e\n  autocache: projid={500}\n`,
  );
  const dup = await lctl("add", a, cache, "-p", "projid={600} rwid=2");
  assert.deepEqual([dup.code, dup.stderr], [
    17,
    `lctl pcc: error: setting llite.${inst}.pcc='add ${cache} projid={600} rwid=2': File exists (17)\n`,
  ]);
  assert.equal((await lctl("add", a, `${sim.dir}/none`, "-p", "projid={1} rwid=3")).code, 2);
  assert.equal(
    (await lctl("add", a, `${sim.dir}/x`, "-p", "projid={1}")).code,
    22,
    "RW-PCC needs rwid",
  );
  assert.equal((await lctl("add", a, cache, "-p", "owner={1} rwid=4")).code, 22);
  const missing = await lctl("add", a, cache);
  assert.deepEqual([missing.code, missing.stderr], [
    4,
    "add: must specify the config param for PCC\n",
  ]);
  assert.equal((await lctl("del", a, cache)).code, 0);
  assert.equal((await lctl("list", a)).stdout, "");
  assert.equal((await lctl("del", a, cache)).code, 2);
  assert.equal((await lctl("add", a, cache, "-p", "uid={1} rwid=5")).code, 0);
  assert.equal((await lctl("clear", a)).code, 0);
  assert.equal((await lctl("list", a)).stdout, "");
});

Deno.test("lustre-sim status, --help and hang of other stand-ins", opts, async () => {
  await using sim = await Sim.up();
  const help = await exec(CLI, ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /lustre-sim up --root DIR \[--state FILE\]/);
  assert.match(help.stdout, /evict +FSNAME/);
  assert.equal((await exec(CLI, ["up"])).code, 2, "--root is required");
  assert.equal((await sim.cli(["fault", "bogus"])).code, 2);
  assert.equal((await sim.cli(["fault", "hang", "on", "--cmd", "lfs"])).code, 0);
  const status = JSON.parse((await sim.cli(["status"])).stdout);
  assert.deepEqual(status.faults.hang, ["lfs"]);
  assert.equal(status.version, "2.15.6");
  const child = new Deno.Command(`${sim.root}/bin/lfs`, {
    args: ["--version"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 800));
  assert.equal(await Promise.race([child.status.then(() => "exited"), timer]), "timeout");
  child.kill("SIGKILL");
  await child.status;
  assert.equal((await sim.tool("mount.lustre", ["-V"])).code, 0, "mount.lustre does not hang");
});

Deno.test(
  "lustre-sim thaw reaches a frozen instance whose mount.lustre was killed",
  opts,
  async () => {
    const sim = await Sim.up();
    const a = sim.target("a");
    const b = sim.target("b");
    assert.equal((await sim.tool("mount.lustre", ["10.0.0.1@tcp:/fs1", a])).code, 0);
    assert.equal((await sim.cli(["fault", "evict", "fs1"])).code, 0);
    assert.equal((await sim.cli(["fault", "freeze", "fs1"])).code, 0);
    // The new instance of the frozen file system is frozen too: mount.lustre blocks on it until
    // killed (as the driver's mount timeout does), before it records that instance.
    // mount.lustre of fs1 at `b`, killed after `seconds` (as the driver's mount timeout does).
    const mountWithin = (seconds: number) =>
      exec("timeout", [
        ...["-s", "KILL", String(seconds)],
        ...[`${sim.root}/bin/mount.lustre`, "10.0.0.1@tcp:/fs1", b],
      ], { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" });
    const killed = await mountWithin(3);
    assert.equal(killed.code, 137);
    try {
      assert.equal((await sim.cli(["fault", "thaw", "fs1"])).code, 0);
      // Bounded: a thaw that missed the unrecorded daemon leaves this mount blocked.
      const again = await mountWithin(20);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(
        (await exec("timeout", [
          "5",
          "sh",
          "-c",
          'echo answers > "$1" && cat "$1"',
          "sh",
          `${b}/x`,
        ]))
          .stdout,
        "answers\n",
      );
    } finally {
      assert.equal((await sim.cli(["down"])).code, 0);
    }
    assert.deepEqual(mountsUnder(sim.mnt), []);
    assert.deepEqual(liveBindfsUnder(sim.root), []);
    if (mountsUnder(sim.dir).length === 0) Deno.removeSync(sim.dir, { recursive: true });
  },
);
