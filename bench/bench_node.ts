/**
 * The node a benchmark runs on: a shared kubelet directory, the real driver
 * in a mount namespace of its own (as in the DaemonSet), and either the
 * Lustre simulator or a real Lustre source. Calls are shaped like kubelet's;
 * paths are created before a call is timed, as kubelet creates them.
 */
import { Identity, Node } from "../src/csi/gen/csi_pb.ts";
import { CsiClient } from "../src/grpc/client.ts";
import { type DriverProcess, startDriver } from "../tests/support/driver.ts";
import { makeSharedKubeletDir, stagingPath, targetPath } from "../tests/support/kubelet.ts";
import { capability } from "../tests/support/node_env.ts";
import type { Sim } from "../tests/support/sim.ts";

/** Where the node's Lustre comes from. */
export interface BenchNodeOptions {
  /** Work directory (kubelet dir, state dir, socket). */
  readonly dir: string;
  /** The simulator, or undefined for a real Lustre on the host. */
  readonly sim?: Sim;
  /** PATH for the Lustre tools (the simulator's when there is one). */
  readonly pathEnv: string;
  /** Extra driver flags. */
  readonly driverArgs?: readonly string[];
  /** Deno flags of the driver: the `node` task's, which the image is compiled with. */
  readonly denoFlags?: readonly string[];
  /** The module deno runs (default `${REPO}/src/main.ts`): the bench runs the bundle's main.js. */
  readonly entry?: string;
}

/** A running benchmark node. */
export class BenchNode implements AsyncDisposable {
  driver!: DriverProcess;
  readonly kubeletDir: string;

  private constructor(readonly options: BenchNodeOptions) {
    this.kubeletDir = `${options.dir}/kubelet`;
  }

  /** Makes the kubelet dir; the driver is started by startDriver(). */
  static async create(options: BenchNodeOptions): Promise<BenchNode> {
    const node = new BenchNode(options);
    await makeSharedKubeletDir(node.kubeletDir);
    return node;
  }

  /**
   * Starts (or restarts) the driver; resolves with the milliseconds from
   * spawning the process to the first Probe that answers ready.
   */
  async startDriver(extraArgs: readonly string[] = []): Promise<number> {
    await this.driver?.stop("SIGTERM");
    const started = performance.now();
    this.driver = await startDriver({
      dir: `${this.options.dir}/driver`,
      ownNamespace: true,
      waitReady: false,
      denoFlags: this.options.denoFlags,
      entry: this.options.entry,
      args: [
        "--kubelet-dir",
        this.kubeletDir,
        "--path-env",
        this.options.pathEnv,
        ...(this.options.driverArgs ?? []),
        ...extraArgs,
      ],
    });
    let exited = false;
    this.driver.status.then(() => exited = true);
    while (performance.now() - started < 60_000) {
      if (exited) throw new Error(`The driver exited before it was ready:\n${this.driver.logs()}`);
      // A fresh client per attempt: a channel that met a missing socket backs off for long.
      const client = new CsiClient(`unix://${this.driver.socketPath}`);
      try {
        const probe = await client.call(Identity.method.probe, {}, { timeoutMs: 1000 });
        if (probe.ready !== false) return performance.now() - started;
      } catch {
        // not listening yet
      } finally {
        client.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`The driver was not ready within 60 s:\n${this.driver.logs()}`);
  }

  /** Kubelet's staging path of a volume, created. */
  staging(volumeId: string): Promise<string> {
    return stagingPath(this.kubeletDir, volumeId);
  }

  /** Kubelet's target path of a pod's volume; its parent is created. */
  target(volumeId: string, pod: string): Promise<string> {
    return targetPath(this.kubeletDir, pod, volumeId);
  }

  async stage(volumeId: string, context: Readonly<Record<string, string>>): Promise<void> {
    await this.driver.client.call(Node.method.nodeStageVolume, {
      volumeId,
      stagingTargetPath: await this.staging(volumeId),
      volumeCapability: capability(),
      volumeContext: context,
    });
  }

  /** Publishes to a target whose path is ready (see target()). */
  async publish(
    volumeId: string,
    paths: { staging: string; target: string },
    context: Readonly<Record<string, string>>,
  ): Promise<void> {
    await this.driver.client.call(Node.method.nodePublishVolume, {
      volumeId,
      stagingTargetPath: paths.staging,
      targetPath: paths.target,
      volumeCapability: capability(),
      readonly: false,
      volumeContext: context,
    });
  }

  async unpublish(volumeId: string, target: string): Promise<void> {
    await this.driver.client.call(Node.method.nodeUnpublishVolume, {
      volumeId,
      targetPath: target,
    });
  }

  async unstage(volumeId: string): Promise<void> {
    await this.driver.client.call(Node.method.nodeUnstageVolume, {
      volumeId,
      stagingTargetPath: await this.staging(volumeId),
    });
  }

  /** NodeGetVolumeStats of a published volume, as kubelet asks it. */
  async stats(volumeId: string, target: string): Promise<{ abnormal: boolean }> {
    const answer = await this.driver.client.call(Node.method.nodeGetVolumeStats, {
      volumeId,
      volumePath: target,
      stagingTargetPath: await this.staging(volumeId),
    });
    return { abnormal: answer.volumeCondition?.abnormal ?? false };
  }

  /** GetPluginInfo: an RPC that does nothing (the cost of gRPC itself). */
  async pluginInfo(): Promise<void> {
    await this.driver.client.call(Identity.method.getPluginInfo, {});
  }

  /** Successful Lustre mounts the driver logged ("Mounted Lustre ..."). */
  lustreMountsLogged(): number {
    return this.driver.logLines().filter((l) =>
      String(l.message ?? "").startsWith("Mounted Lustre ")
    ).length;
  }

  async [Symbol.asyncDispose]() {
    await this.driver?.stop("SIGTERM").catch(() => undefined);
  }
}
