/**
 * A test node: a simulated Lustre cluster, a shared kubelet directory, and
 * the real driver in a mount namespace of its own (as in the DaemonSet),
 * plus request builders shaped like kubelet's.
 */
import { type DriverProcess, startDriver, tempDir } from "./driver.ts";
import { type Sim, startSim } from "./sim.ts";
import type { MountInfo } from "../../src/mount/mountinfo.ts";
import { HostNamespace } from "./host_namespace.ts";
import { makeSharedKubeletDir, stagingPath, targetPath } from "./kubelet.ts";
import { Node, VolumeCapability_AccessMode_Mode as Mode } from "../../src/csi/gen/csi_pb.ts";

/** Options of a test node. */
export interface NodeEnvOptions {
  /** Simulator cluster description (default: fs1 and fs2). */
  readonly simState?: Record<string, unknown>;
  readonly driverArgs?: readonly string[];
  /** Also start a controller on the same simulator (dynamic provisioning). */
  readonly controller?: boolean;
  /**
   * Run the driver in namespaces derived from a stand-in host namespace and
   * keep shared mounts in a keeper pinned there (--host-mount-namespace), as
   * the DaemonSet does (default true).
   */
  readonly hostNamespace?: boolean;
  /** The driver's module and Deno flags (default src/main.ts with --allow-all), e.g. the bundle. */
  readonly driver?: { readonly entry: string; readonly denoFlags: readonly string[] };
}

/** A running test node. */
export class NodeEnv implements AsyncDisposable {
  driver!: DriverProcess;
  controller?: DriverProcess;
  /** The stand-in host namespace, when the env has one. */
  host?: HostNamespace;
  constructor(
    readonly dir: string,
    readonly sim: Sim,
    readonly kubeletDir: string,
    readonly driverArgs: readonly string[],
    private readonly cleanup: AsyncDisposable,
    readonly driverModule?: NodeEnvOptions["driver"],
  ) {}

  get stateDir(): string {
    return `${this.dir}/driver/state`;
  }

  /** Starts (or restarts) the driver. */
  async start(): Promise<DriverProcess> {
    this.driver = await startDriver({
      dir: `${this.dir}/driver`,
      ownNamespace: true,
      parentNamespace: this.host?.nsPath,
      entry: this.driverModule?.entry,
      denoFlags: this.driverModule?.denoFlags,
      args: [
        ...(this.host ? ["--host-mount-namespace", this.host.nsPath] : []),
        "--kubelet-dir",
        this.kubeletDir,
        "--path-env",
        this.sim.pathEnv,
        "--log-level",
        "debug",
        ...this.driverArgs,
      ],
    });
    return this.driver;
  }

  /** Starts (or restarts) the controller, in a mount namespace of its own. */
  async startController(): Promise<DriverProcess> {
    this.controller = await startDriver({
      dir: `${this.dir}/controller`,
      mode: "controller",
      ownNamespace: true,
      args: ["--path-env", this.sim.pathEnv, "--log-level", "debug", ...this.driverArgs],
    });
    return this.controller;
  }

  /** Mount points in the driver's own namespace (where the shared mounts live). */
  async driverMounts(): Promise<string[]> {
    const text = await Deno.readTextFile(`/proc/${this.driver.pid}/mountinfo`);
    return text.split("\n").filter((l) => l).map((l) => l.split(" ")[4]);
  }

  /** The keeper namespace's mount table (needs a host namespace; empty before the driver made it). */
  async keeperMounts() {
    if (!this.host) throw new Error("This test node has no stand-in host namespace");
    return await this.host.pinnedMountInfo(`${this.stateDir}/keeper/ns`);
  }

  /** Simulated Lustre client mounts in a mount table, apart from the simulator's own exports. */
  lustreClientMounts(mounts: readonly MountInfo[]): string[] {
    return mounts.filter((m) =>
      m.fsType === "fuse.lustre" && !m.mountPoint.startsWith(`${this.sim.root}/`)
    ).map((m) => m.mountPoint);
  }

  /** Stages like kubelet: creates the staging dir, calls NodeStageVolume. */
  async stage(volumeId: string, context: Record<string, string>, extra: StageExtra = {}) {
    const staging = await stagingPath(this.kubeletDir, volumeId);
    await this.driver.client.call(Node.method.nodeStageVolume, {
      volumeId,
      stagingTargetPath: staging,
      volumeCapability: capability(extra.mode, extra.mountFlags),
      volumeContext: context,
      secrets: extra.secrets,
    });
    return staging;
  }

  /** Publishes like kubelet for one pod. */
  async publish(
    volumeId: string,
    podUid: string,
    context: Record<string, string>,
    extra: StageExtra & { readonly?: boolean } = {},
  ) {
    const staging = await stagingPath(this.kubeletDir, volumeId);
    const target = await targetPath(this.kubeletDir, podUid, pvName(volumeId));
    await this.driver.client.call(Node.method.nodePublishVolume, {
      volumeId,
      stagingTargetPath: staging,
      targetPath: target,
      volumeCapability: capability(extra.mode, extra.mountFlags),
      readonly: extra.readonly ?? false,
      volumeContext: context,
      secrets: extra.secrets,
    });
    return target;
  }

  async unpublish(volumeId: string, podUid: string) {
    const target = await targetPath(this.kubeletDir, podUid, pvName(volumeId));
    await this.driver.client.call(Node.method.nodeUnpublishVolume, {
      volumeId,
      targetPath: target,
    });
    return target;
  }

  async unstage(volumeId: string) {
    const staging = await stagingPath(this.kubeletDir, volumeId);
    await this.driver.client.call(Node.method.nodeUnstageVolume, {
      volumeId,
      stagingTargetPath: staging,
    });
    return staging;
  }

  async [Symbol.asyncDispose]() {
    await this.driver?.stop("SIGKILL").catch(() => undefined);
    await this.controller?.stop("SIGKILL").catch(() => undefined);
    await this.host?.[Symbol.asyncDispose]().catch(() => undefined);
    await this.sim[Symbol.asyncDispose]().catch(() => undefined);
    await this.cleanup[Symbol.asyncDispose]();
  }
}

/** The PV name kubelet puts in a target path: here derived from the volume ID. */
export function pvName(volumeId: string): string {
  return volumeId.replace(/[^A-Za-z0-9.-]+/g, "-");
}

/** Extra stage/publish fields. */
export interface StageExtra {
  readonly mode?: Mode;
  readonly mountFlags?: string[];
  /** The call's secrets (node-stage-secret or node-publish-secret of the class). */
  readonly secrets?: Record<string, string>;
}

/** A mount capability with an access mode (default MULTI_NODE_MULTI_WRITER). */
export function capability(mode: Mode = Mode.MULTI_NODE_MULTI_WRITER, mountFlags: string[] = []) {
  return {
    accessType: { case: "mount" as const, value: { fsType: "", mountFlags } },
    accessMode: { mode },
  };
}

/** Builds a test node with the driver running. */
export async function startNodeEnv(options: NodeEnvOptions = {}): Promise<NodeEnv> {
  const dir = await tempDir("klustre-node-");
  try {
    const kubeletDir = `${dir.path}/kubelet`;
    await makeSharedKubeletDir(kubeletDir);
    const sim = await startSim(`${dir.path}/sim`, options.simState);
    const env = new NodeEnv(
      dir.path,
      sim,
      kubeletDir,
      options.driverArgs ?? [],
      dir,
      options.driver,
    );
    try {
      if (options.hostNamespace ?? true) env.host = await HostNamespace.start();
      await env.start();
      if (options.controller) await env.startController();
    } catch (error) {
      await env.driver?.stop("SIGKILL").catch(() => undefined);
      await env.host?.[Symbol.asyncDispose]().catch(() => undefined);
      await sim[Symbol.asyncDispose]();
      throw error;
    }
    return env;
  } catch (error) {
    await dir[Symbol.asyncDispose]();
    throw error;
  }
}

/** Source of the simulator's first file system. */
export const FS1 = "10.0.0.1@tcp:/fs1";
