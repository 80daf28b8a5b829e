/**
 * Integration tests of the Lustre simulator (scripts/lustre-sim): real tmpfs, bindfs and bind
 * mounts. Run as root inside `unshare --mount --propagation private` (see deno.json "test").
 */
import assert from "node:assert/strict";
import { statfsSync } from "node:fs";
import { fileURLToPath } from "node:url";

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

interface MountLine {
  id: number;
  dev: string;
  root: string;
  mountPoint: string;
  options: string;
  fsType: string;
  source: string;
}

/** Reads mountinfo through `cat` (Deno needs --allow-all to read /proc itself). */
function mountinfo(): MountLine[] {
  const out = new Deno.Command("cat", { args: ["/proc/self/mountinfo"] }).outputSync();
  return new TextDecoder().decode(out.stdout).trim().split("\n").map((line) => {
    const f = line.split(" ");
    const dash = f.indexOf("-", 6);
    const un = (s: string) => s.replace(/\\040/g, " ");
    return {
      id: Number(f[0]),
      dev: f[2],
      root: un(f[3]),
      mountPoint: un(f[4]),
      options: f[5],
      fsType: f[dash + 1],
      source: f[dash + 2],
    };
  });
}

function mountsUnder(dir: string): MountLine[] {
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
