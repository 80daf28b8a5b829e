/** `lustre-sim up` and `lustre-sim down`: build and tear down a simulated cluster. */
import { isWithin, readMountInfo } from "./mountinfo.ts";
import {
  findProcesses,
  isAlive,
  kill,
  processComm,
  processEnv,
  runOrThrow,
  terminate,
} from "./proc.ts";
import { startExport, thawAll, unmount } from "./exports.ts";
import { mountEncryptable } from "./encryptable.ts";
import { inServer, inServerAlready, SERVER_ENV, serverAlive, startServer } from "./server_ns.ts";
import {
  parseConfig,
  readState,
  type SimConfig,
  simPaths,
  type SimState,
  writeState,
} from "./state.ts";

/** The stand-ins written to DIR/bin: name -> module in scripts/lustre_sim. */
export const STAND_INS: Record<string, string> = {
  "mount.lustre": "mount_lustre.ts",
  lfs: "lfs.ts",
  lctl: "lctl.ts",
};

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function denoDir(): string | undefined {
  const env = Deno.env.toObject();
  if (env.DENO_DIR) return env.DENO_DIR;
  if (env.XDG_CACHE_HOME) return `${env.XDG_CACHE_HOME}/deno`;
  if (env.HOME) return `${env.HOME}/.cache/deno`;
  return undefined;
}

/** The shell script for one stand-in, with the root, repo and deno baked in. */
export function standInScript(root: string, repo: string, module: string): string {
  const cache = denoDir();
  return [
    "#!/bin/sh",
    "# Written by `lustre-sim up`: Lustre simulator stand-in (see docs/simulator.md).",
    `export LUSTRE_SIM_ROOT=${shellQuote(root)}`,
    "export DENO_NO_UPDATE_CHECK=1",
    ...(cache ? [`export DENO_DIR="\${DENO_DIR:-${cache.replaceAll('"', '\\"')}}"`] : []),
    `exec ${shellQuote(Deno.execPath())} run -A --no-config --quiet ${
      shellQuote(`${repo}/scripts/lustre_sim/${module}`)
    } "$@"`,
    "",
  ].join("\n");
}

function isRunning(root: string): boolean {
  const srv = simPaths(root).srv;
  return readMountInfo().some((m) => isWithin(m.mountPoint, srv));
}

/**
 * Builds the simulated cluster under `rootArg` and returns the lines to print.
 * @throws Error when a simulator already runs there or a mount fails
 */
export function up(rootArg: string, options: { repo: string; config?: SimConfig }): string[] {
  Deno.mkdirSync(rootArg, { recursive: true });
  const root = Deno.realPathSync(rootArg);
  const previous = readState(root);
  if (previous !== null || isRunning(root)) {
    if (isRunning(root) || serverAlive(previous?.runtime.server)) {
      throw new Error(
        `"${root}" already has a running simulator; run "lustre-sim down --root ${root}" first`,
      );
    }
    down(root);
  }
  const config = options.config ?? parseConfig({});
  const paths = simPaths(root);
  const state: SimState = {
    ...structuredClone(config),
    faults: { mgsDown: null, hang: [], slow: null, frozen: [] },
    runtime: {
      repo: options.repo,
      root,
      exports: [],
      mounts: [],
      quotas: {},
      persistentParams: [],
      nextUnique: 0,
    },
  };
  Deno.mkdirSync(paths.bin, { recursive: true });
  Deno.mkdirSync(paths.sysDir, { recursive: true });
  writeState(root, state);
  try {
    // Exports live in this namespace, whoever mounts later (see server_ns.ts).
    state.runtime.server = startServer(root);
    writeState(root, state);
    for (const fs of state.fileSystems) {
      const tmpfs = paths.tmpfs(fs.name);
      Deno.mkdirSync(tmpfs, { recursive: true });
      if (fs.encryptable) {
        mountEncryptable(root, fs, tmpfs);
        Deno.mkdirSync(paths.backing(fs.name), { mode: 0o755 });
        startExport(state, fs.name, paths.export(fs.name, 0), "main");
        writeState(root, state);
        continue;
      }
      runOrThrow("mount", [
        "-t",
        "tmpfs",
        "-o",
        `size=${fs.size},nr_inodes=${fs.inodes},mode=0755`,
        `lustre-sim-${fs.name}`,
        tmpfs,
      ]);
      Deno.mkdirSync(paths.backing(fs.name), { mode: 0o755 });
      startExport(state, fs.name, paths.export(fs.name, 0), "main");
      writeState(root, state);
    }
  } catch (e) {
    down(root);
    throw e;
  }
  if (state.modulesLoaded) Deno.writeTextFileSync(paths.sysVersion, `${state.version}\n`);
  for (const [name, module] of Object.entries(STAND_INS)) {
    Deno.writeTextFileSync(`${paths.bin}/${name}`, standInScript(root, options.repo, module), {
      mode: 0o755,
    });
  }
  Deno.writeTextFileSync(paths.calls, "", { append: true });
  writeState(root, state);
  return [
    `lustre-sim: up at ${root} (Lustre ${state.version})`,
    ...state.fileSystems.map((f) =>
      `  ${
        state.mgsNodes.map((n) => n.join(",")).join(":")
      }:/${f.name}  size=${f.size} inodes=${f.inodes}`
    ),
    `  export PATH=${paths.bin}:$PATH`,
  ];
}

/** Tears down everything the simulator at `rootArg` made; safe to repeat. Returns lines to print. */
export function down(rootArg: string): string[] {
  let root: string;
  try {
    root = Deno.realPathSync(rootArg);
  } catch {
    return [`lustre-sim: nothing to do at ${rootArg}`];
  }
  const paths = simPaths(root);
  let state: SimState | null = null;
  try {
    state = readState(root);
  } catch {
    // half-written state: fall back to scanning
  }

  // Continue frozen daemons first, so that nothing stays blocked on their mounts.
  thawAll(paths.srv, state);

  // Stand-ins of this root that are still running (hung mounts).
  const me = new Set([Deno.pid, Deno.ppid]);
  const standIns = findProcesses((argv, pid) =>
    !me.has(pid) && argv.some((a) => a.includes("/scripts/lustre_sim/")) &&
    processEnv(pid).includes(`LUSTRE_SIM_ROOT=${root}`)
  );
  terminate(standIns, 200);

  // Daemons stopped by a fault must run again to let go of their mounts and to die.
  const daemonsOf = () => {
    const recorded = (state?.runtime.exports ?? []).map((e) => e.pid).filter((pid) =>
      pid > 0 && isAlive(pid) && processComm(pid) === "bindfs"
    );
    const found = findProcesses((argv) =>
      argv[0].endsWith("bindfs") && argv.some((a) => isWithin(a, paths.srv))
    );
    return [...new Set([...recorded, ...found])];
  };
  for (const pid of daemonsOf()) kill(pid, "SIGCONT");

  // Here, then in the server namespace when that is another one (if it can be entered).
  const server = state && serverAlive(state.runtime.server) && !inServerAlready(state)
    ? state
    : null;
  const there = <T>(fn: () => T, otherwise: T): T => {
    if (!server) return otherwise;
    try {
      return inServer(server, fn);
    } catch {
      return otherwise;
    }
  };
  let unmounted = unmountAll(paths, state);
  unmounted += there(() => unmountAll(paths, state), 0);

  // Daemons exit after their unmount; stop any that did not, and wait for all of them.
  const daemons = daemonsOf();
  terminate(daemons, 2000);

  const leftHere = () =>
    readMountInfo().filter((e) =>
      isWithin(e.mountPoint, paths.srv) || isWithin(e.mountPoint, paths.bin)
    );
  const left = [...leftHere(), ...there(leftHere, [])];

  // The server's keeper last: nothing of the simulator is left in its namespace.
  const keepers = findProcesses((_, pid) =>
    processComm(pid) === "sleep" && processEnv(pid).includes(`${SERVER_ENV}=${root}`)
  );
  terminate(keepers, 200);
  if (left.length === 0) {
    for (const p of [paths.srv, `${root}/sys`, paths.bin]) {
      try {
        Deno.removeSync(p, { recursive: true });
      } catch {
        // absent
      }
    }
    for (const p of [paths.state, paths.lock]) {
      try {
        Deno.removeSync(p);
      } catch {
        // absent
      }
    }
  }
  return [
    `lustre-sim: down at ${root}: ${unmounted} mount(s) removed, ` +
    `${daemons.length + standIns.length + keepers.length} process(es) stopped` +
    (left.length
      ? `, ${left.length} mount(s) left: ${left.map((e) => e.mountPoint).join(" ")}`
      : ""),
  ];
}

/** Unmounts client mounts of the simulator's devices, then its own mounts; returns how many. */
function unmountAll(paths: ReturnType<typeof simPaths>, state: SimState | null): number {
  let unmounted = 0;
  for (let pass = 0; pass < 5; pass++) {
    const entries = readMountInfo();
    const devs = new Set(state?.runtime.exports.map((e) => e.dev) ?? []);
    for (const e of entries) {
      if (isWithin(e.mountPoint, paths.srv) && e.fsType.startsWith("fuse")) devs.add(e.dev);
    }
    const clients = entries.filter((e) => devs.has(e.dev) && !isWithin(e.mountPoint, paths.srv));
    const own = entries.filter((e) => isWithin(e.mountPoint, paths.srv) && !clients.includes(e));
    const todo = [...clients.reverse(), ...own.reverse()];
    if (todo.length === 0) break;
    for (const e of todo) if (unmount(e.mountPoint)) unmounted++;
  }
  return unmounted;
}
