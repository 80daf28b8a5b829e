/** Kubelet's CSI calls for campaign operations, each with its own deadline. */
import { Node } from "../../../src/csi/gen/csi_pb.ts";
import { Code } from "../../../src/csi/csi_error.ts";
import { CallError } from "../../../src/grpc/client.ts";
import type { NodeEnv } from "../node_env.ts";
import { capability } from "../node_env.ts";
import { volumeContext, VOLUMES } from "./cluster.ts";
import type { Op } from "./model.ts";

/** Paths kubelet uses, made once before any fault (kubelet's mkdir must not meet a hung mount). */
export interface KubeletPaths {
  staging(volume: number): string;
  target(volume: number, pod: number): string;
}

/** How one call ended. */
export interface Answer {
  readonly code: number;
  readonly message: string;
  readonly ms: number;
}

/** Makes the call `op` names ("stage 1", "publish 1 2", ...). */
export async function kubeletCall(
  env: NodeEnv,
  paths: KubeletPaths,
  op: Op,
  timeoutMs: number,
): Promise<Answer> {
  const [kind, a, b] = op.split(" ");
  const v = Number(a), p = Number(b);
  const volume = VOLUMES[v];
  const base = {
    volumeId: volume.id,
    volumeCapability: capability(),
    volumeContext: volumeContext(volume),
  };
  const client = env.driver.client;
  const options = { timeoutMs };
  const started = performance.now();
  try {
    switch (kind) {
      case "stage":
        await client.call(Node.method.nodeStageVolume, {
          ...base,
          stagingTargetPath: paths.staging(v),
        }, options);
        break;
      case "publish":
        await client.call(Node.method.nodePublishVolume, {
          ...base,
          stagingTargetPath: paths.staging(v),
          targetPath: paths.target(v, p),
        }, options);
        break;
      case "unpublish":
        await client.call(Node.method.nodeUnpublishVolume, {
          volumeId: volume.id,
          targetPath: paths.target(v, p),
        }, options);
        break;
      case "unstage":
        await client.call(Node.method.nodeUnstageVolume, {
          volumeId: volume.id,
          stagingTargetPath: paths.staging(v),
        }, options);
        break;
      default:
        throw new Error(`Not a kubelet call: "${op}"`);
    }
    return { code: Code.OK, message: "", ms: performance.now() - started };
  } catch (error) {
    if (!(error instanceof CallError)) throw error;
    return { code: error.code, message: error.details, ms: performance.now() - started };
  }
}
