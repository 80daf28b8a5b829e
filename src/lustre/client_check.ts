/**
 * Is the Lustre client usable on this node? The mount helper must run and
 * the kernel modules must answer `lctl get_param -n version`.
 */
import type { CommandRunner } from "../exec/command_runner.ts";

/** Outcome of one check; reasons say what is missing. */
export interface ClientStatus {
  readonly ready: boolean;
  /** The client version, e.g. "2.15.6", when the modules answered. */
  readonly version: string;
  readonly reasons: readonly string[];
}

/** Checks the Lustre tools and modules, each command bounded by timeoutMs. */
export async function checkLustreClient(
  runner: CommandRunner,
  options: { timeoutMs: number },
): Promise<ClientStatus> {
  const reasons: string[] = [];
  const [helper, modules] = await Promise.allSettled([
    runner.run("mount.lustre", ["-V"], { timeoutMs: options.timeoutMs }),
    runner.run("lctl", ["get_param", "-n", "version"], { timeoutMs: options.timeoutMs }),
  ]);
  if (helper.status === "rejected") {
    reasons.push(`mount.lustre is not usable: ${(helper.reason as Error).message}`);
  }
  let version = "";
  if (modules.status === "rejected") {
    reasons.push(`Lustre modules do not answer: ${(modules.reason as Error).message}`);
  } else {
    version = parseVersion(modules.value.stdout);
    if (!version) reasons.push(`lctl printed no version: "${modules.value.stdout.trim()}"`);
  }
  return { ready: reasons.length === 0, version, reasons };
}

/** Extracts "2.15.6" from "2.15.6" or "version=2.15.6" or "lctl 2.15.6". */
export function parseVersion(text: string): string {
  return /(\d+\.\d+\.\d+)/.exec(text)?.[1] ?? "";
}

/** Compares dotted versions numerically: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}
