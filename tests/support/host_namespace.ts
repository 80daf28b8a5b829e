/**
 * A stand-in for a node's host mount namespace: a sleeping process in a new
 * mount namespace copied from the test's (so the shared kubelet directory
 * stays a peer of the test's and pods' binds show in both). The driver runs
 * in namespaces derived from it, as a DaemonSet container's are derived
 * from the host's, and is told it is "the host" (--host-mount-namespace),
 * so no test ever mounts in the machine's real root namespace. Ending the
 * process frees everything pinned in it.
 */
import { type MountInfo, parseMountInfo } from "../../src/mount/mountinfo.ts";

/** The stand-in host namespace. */
export class HostNamespace implements AsyncDisposable {
  private constructor(private readonly child: Deno.ChildProcess) {}

  /**
   * Starts it.
   * @throws Error when the test's root mount is shared (not run under unshare --propagation private)
   */
  static async start(): Promise<HostNamespace> {
    const ours = await Deno.readLink("/proc/self/ns/mnt");
    const root = parseMountInfo(await Deno.readTextFile("/proc/self/mountinfo"))
      .findLast((m) => m.mountPoint === "/");
    if (!root || root.optionalFields.some((f) => f.startsWith("shared:"))) {
      throw new Error("Run this test under `unshare --mount --propagation private`");
    }
    const child = new Deno.Command("unshare", {
      args: ["--mount", "--propagation", "unchanged", "sleep", "3600"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const host = new HostNamespace(child);
    const deadline = Date.now() + 10_000;
    while (await Deno.readLink(host.nsPath).catch(() => ours) === ours) {
      if (Date.now() > deadline) {
        await host[Symbol.asyncDispose]();
        throw new Error("The stand-in host namespace did not start within 10 s");
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return host;
  }

  /** nsfs file of the stand-in host namespace. */
  get nsPath(): string {
    return `/proc/${this.child.pid}/ns/mnt`;
  }

  /** The host's mount table. */
  async mountInfo(): Promise<MountInfo[]> {
    return parseMountInfo(await Deno.readTextFile(`/proc/${this.child.pid}/mountinfo`));
  }

  /** The mount table of the namespace pinned at host path `pin` (empty if none). */
  async pinnedMountInfo(pin: string): Promise<MountInfo[]> {
    const output = await new Deno.Command("nsenter", {
      args: [`--mount=${this.nsPath}`, "nsenter", `--mount=${pin}`, "cat", "/proc/self/mountinfo"],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(10_000),
    }).output();
    if (output.code !== 0) {
      throw new Error(`Cannot enter "${pin}": ${new TextDecoder().decode(output.stderr)}`);
    }
    return parseMountInfo(new TextDecoder().decode(output.stdout));
  }

  async [Symbol.asyncDispose]() {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await this.child.status;
  }
}
