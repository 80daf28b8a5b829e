/** `lustre-sim fault --root DIR KIND [ARGS]`: switches faults in the state. */
import { parseArgs } from "node:util";
import { evictExports, signalExports } from "./exports.ts";
import { canonicalNid } from "./source.ts";
import { simPaths, type SimState, updateState } from "./state.ts";

/** Fault kinds and their argument synopsis, for --help. */
export const FAULT_KINDS: Record<string, string> = {
  "mgs-down": "[--delay-ms N] [--nid NID]   mount exits 5 after N ms; lctl ping fails",
  "mgs-up": "                             undo mgs-down",
  "hang": "on|off [--cmd CMD|all]       CMD (default mount.lustre) blocks until killed",
  "slow": "--delay-ms N [--cmd CMD|all] | off   CMD waits N ms before it runs",
  "modules-missing": "on|off               mount exits 19, lctl get_param version fails",
  "evict": "FSNAME                      kill FSNAME's FUSE daemons: ENOTCONN everywhere",
  "freeze": "FSNAME                     stop (SIGSTOP) FSNAME's FUSE daemons: every access blocks",
  "thaw": "FSNAME                       continue (SIGCONT) them: blocked calls return",
  "version": "X.Y.Z                     reported client version (>= 2.15.8 accepts unique_fsid)",
  "root-squash":
    "FSNAME on|off               FSNAME squashes root (new files owned by 65534, chown EPERM); evicts it",
};

const ALL_CMDS = ["mount.lustre", "lfs", "lctl"];

/** Thrown for bad fault arguments; main prints it and exits 2. */
export class FaultUsageError extends Error {
  override name = "FaultUsageError";
}

function cmdsOf(value: string | undefined): string[] {
  if (value === undefined) return ["mount.lustre"];
  if (value === "all") return [...ALL_CMDS];
  const cmds = value.split(",");
  for (const c of cmds) {
    if (!ALL_CMDS.includes(c)) throw new FaultUsageError(`Unknown command "${c}" for --cmd`);
  }
  return cmds;
}

function delayOf(value: string | undefined, required: boolean): number {
  if (value === undefined) {
    if (required) throw new FaultUsageError("--delay-ms N is required");
    return 0;
  }
  if (!/^\d+$/.test(value)) throw new FaultUsageError(`Invalid --delay-ms "${value}"`);
  return Number(value);
}

function onOff(value: string | undefined, kind: string): boolean {
  if (value !== "on" && value !== "off") throw new FaultUsageError(`${kind} takes on or off`);
  return value === "on";
}

/**
 * Applies one fault to the simulator at `root`; returns the line to print.
 * @throws FaultUsageError for a bad kind or arguments
 */
export function applyFault(root: string, kind: string, args: string[]): string {
  const { values, positionals } = parseArgs({
    args,
    options: {
      "delay-ms": { type: "string" },
      nid: { type: "string" },
      cmd: { type: "string" },
    },
    allowPositionals: true,
  });
  const arg = positionals[0];
  const change = (fn: (s: SimState) => void) => updateState(root, fn);
  switch (kind) {
    case "mgs-down": {
      const delayMs = delayOf(values["delay-ms"], false);
      change((s) => {
        let nids: string[] | null = null;
        if (values.nid !== undefined) {
          const nid = canonicalNid(values.nid, s.hosts);
          if (typeof nid !== "string" || nid === "unsupported") {
            throw new FaultUsageError(`Invalid NID "${values.nid}"`);
          }
          nids = [...(s.faults.mgsDown?.nids ?? []), nid];
        }
        s.faults.mgsDown = { nids, delayMs };
      });
      return `mgs-down: ${
        values.nid ?? "all MGS NIDs"
      } unreachable, mount fails after ${delayMs} ms`;
    }
    case "mgs-up":
      change((s) => s.faults.mgsDown = null);
      return "mgs-up: every MGS NID reachable";
    case "hang": {
      const on = onOff(arg, kind);
      const cmds = cmdsOf(values.cmd);
      change((s) => {
        const rest = s.faults.hang.filter((c) => !cmds.includes(c));
        s.faults.hang = on ? [...rest, ...cmds] : rest;
      });
      return `hang ${arg}: ${cmds.join(", ")}`;
    }
    case "slow": {
      if (arg === "off") {
        change((s) => s.faults.slow = null);
        return "slow off";
      }
      const delayMs = delayOf(values["delay-ms"], true);
      const cmds = cmdsOf(values.cmd);
      change((s) => s.faults.slow = { cmds, delayMs });
      return `slow: ${cmds.join(", ")} wait ${delayMs} ms`;
    }
    case "modules-missing": {
      const on = onOff(arg, kind);
      change((s) => {
        s.modulesLoaded = !on;
        writeVersionFile(root, s);
      });
      return `modules-missing ${arg}`;
    }
    case "root-squash": {
      const fsName = positionals[0];
      const on = onOff(positionals[1], kind);
      const killed = change((s) => {
        if (!s.fileSystems.some((f) => f.name === fsName)) {
          throw new FaultUsageError(`Unknown file system "${fsName}"`);
        }
        const rest = (s.faults.rootSquash ?? []).filter((f) => f !== fsName);
        s.faults.rootSquash = on ? [...rest, fsName] : rest;
        // Mounts made from now on see the change; the ones before are evicted.
        return evictExports(s, fsName);
      });
      return `root-squash ${fsName} ${
        positionals[1]
      }: ${killed} FUSE daemon(s) restarted on next mount`;
    }
    case "evict": {
      if (!arg) throw new FaultUsageError("evict needs FSNAME");
      const killed = change((s) => {
        if (!s.fileSystems.some((f) => f.name === arg)) {
          throw new FaultUsageError(`Unknown file system "${arg}"`);
        }
        return evictExports(s, arg);
      });
      return `evict ${arg}: ${killed} FUSE daemon(s) killed`;
    }
    case "freeze":
    case "thaw": {
      if (!arg) throw new FaultUsageError(`${kind} needs FSNAME`);
      const count = change((s) => {
        if (!s.fileSystems.some((f) => f.name === arg)) {
          throw new FaultUsageError(`Unknown file system "${arg}"`);
        }
        return signalExports(s, arg, kind === "freeze" ? "SIGSTOP" : "SIGCONT");
      });
      return `${kind} ${arg}: ${count} FUSE daemon(s) ${
        kind === "freeze" ? "stopped" : "continued"
      }`;
    }
    case "version": {
      if (!arg || !/^\d+\.\d+\.\d+$/.test(arg)) throw new FaultUsageError("version needs X.Y.Z");
      change((s) => {
        s.version = arg;
        writeVersionFile(root, s);
      });
      return `version ${arg}`;
    }
    default:
      throw new FaultUsageError(`Unknown fault "${kind}"`);
  }
}

/** DIR/sys/fs/lustre/version exists exactly when the modules are "loaded". */
export function writeVersionFile(root: string, state: SimState): void {
  const path = simPaths(root).sysVersion;
  if (state.modulesLoaded) {
    Deno.mkdirSync(simPaths(root).sysDir, { recursive: true });
    Deno.writeTextFileSync(path, `${state.version}\n`);
  } else {
    try {
      Deno.removeSync(path);
    } catch {
      // already absent
    }
  }
}
