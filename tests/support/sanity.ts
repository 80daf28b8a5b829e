/**
 * A re-enactment of csi-sanity's framework (kubernetes-csi/csi-test v5, pkg/sanity: sanity.go,
 * resources.go, tests.go, util.go) for tests/conformance_test.ts: its defaults and ID
 * generator, the TestContext with the mount and staging dirs it creates for each spec, the
 * Resources that register volumes and clean them up after each spec, and an environment of
 * the simulator with the node and controller processes, as `csi-sanity --csi.endpoint NODE
 * --csi.controllerendpoint CONTROLLER` would find them.
 */
import assert from "node:assert/strict";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  Controller,
  type ControllerServiceCapability_RPC_Type as CCap,
  type CreateVolumeRequestSchema,
  Identity,
  Node,
  NodeServiceCapability_RPC_Type as NCap,
  type PluginCapability_Service_Type as Service,
  type Topology,
  type Volume,
  VolumeCapability_AccessMode_Mode as Mode,
} from "../../src/csi/gen/csi_pb.ts";
import { Code, codeName } from "../../src/csi/csi_error.ts";
import { CallError, type CsiClient } from "../../src/grpc/client.ts";
import { type DriverProcess, startDriver } from "./driver.ts";
import { type Sim, startSim } from "./sim.ts";
import { statusCode } from "./calls.ts";
import { mountsBelow } from "./kubelet.ts";

const GiB = 1024n ** 3n;
/** sanity.go NewTestConfig: TestVolumeSize 10 GiB, IdempotentCount 10. */
export const SIZE = 10n * GiB;
export const IDEMPOTENT_COUNT = 10;
/** TestVolumeExpandSize: TestVolumeSize + DefTestExpandIncrement (1 GiB). */
export const EXPAND_SIZE = SIZE + GiB;
/** The test volume parameters: a StorageClass of docs/provisioning.md. */
export const PARAMS = { source: "10.0.0.1@tcp:/fs1" };
export const [CM, NM] = [Controller.method, Node.method];

/** UniqueString: the prefix and one PseudoUUID ("%08X-%08X") per run. */
const hex8 = () => crypto.randomUUID().replaceAll("-", "").slice(0, 8).toUpperCase();
const SUFFIX = `-${hex8()}-${hex8()}`;
export const unique = (prefix: string) => prefix + SUFFIX;
/** DefaultIDGenerator: unique "valid" volume IDs and the invalid one. */
export const validVolumeId = () => `fake-vol-id-${crypto.randomUUID().slice(0, 10)}`;
export const INVALID_VOLUME_ID = "fake-vol-id";

/** TestVolumeCapabilityWithAccessType(sc, mode), TestVolumeAccessType "mount". */
export const mountCap = (mode = Mode.SINGLE_NODE_WRITER) => ({
  accessMode: { mode },
  accessType: { case: "mount" as const, value: {} },
});
type CreateRequest = MessageInitShape<typeof CreateVolumeRequestSchema>;
/** The CreateVolume request most specs send: SINGLE_NODE_WRITER, RequiredBytes TestVolumeSize. */
export const createRequest = (name: string, extra: {
  capacityRange?: { requiredBytes: bigint; limitBytes?: bigint };
  accessibilityRequirements?: { requisite: Topology[] };
} = {}): CreateRequest => ({
  name,
  volumeCapabilities: [mountCap()],
  capacityRange: { requiredBytes: SIZE },
  parameters: PARAMS,
  ...extra,
});
/** r.MustCreateVolume of the usual request for UniqueString(prefix). */
export const newVolume = (
  r: Resources,
  prefix: string,
  extra?: Parameters<typeof createRequest>[1],
) => r.mustCreateVolume(createRequest(unique(prefix), extra));
/** Or(BeNumerically(">=", size), BeZero()). */
export const sized = (volume: Volume, size = SIZE) =>
  assert.ok(volume.capacityBytes >= size || volume.capacityBytes === 0n, `${volume.capacityBytes}`);

/** Expect(serverError.Code()).To(Equal(code), "unexpected error: %s", message). */
export async function expectCode(call: Promise<unknown>, code: number): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof CallError)) throw error;
    return assert.equal(codeName(error.code), codeName(code), `unexpected error: ${error.details}`);
  }
  assert.fail(`expected ${codeName(code)}, the call succeeded`);
}

/** sanity's TestContext: both connections and the two dirs it creates for each spec. */
export class Sanity {
  /** TargetPath (default /tmp/csi-mount), the parent of every NodePublishVolume target. */
  readonly targetPath: string;
  readonly target: string;
  /** StagingPath (default /tmp/csi-staging). */
  readonly stagingPath: string;
  constructor(readonly node: CsiClient, readonly controller: CsiClient, dir: string) {
    this.targetPath = `${dir}/csi-mount`;
    this.target = `${this.targetPath}/target`;
    this.stagingPath = `${dir}/csi-staging`;
  }

  async nodeCap(type: NCap): Promise<boolean> {
    const { capabilities } = await this.node.call(NM.nodeGetCapabilities, {});
    return capabilities.some((c) => c.type.case === "rpc" && c.type.value.type === type);
  }
  /** isControllerCapabilitySupported (which also expects a non-empty list). */
  async controllerCap(type: CCap): Promise<boolean> {
    const caps = await this.controller.call(CM.controllerGetCapabilities, {});
    assert.ok(caps.capabilities.length > 0);
    return caps.capabilities.some((c) => c.type.case === "rpc" && c.type.value.type === type);
  }
  /** Plugin services as sanity reads them: from the node endpoint (sc.Conn). */
  async services(): Promise<Service[]> {
    const { capabilities } = await this.node.call(Identity.method.getPluginCapabilities, {});
    return capabilities.flatMap((c) => c.type.case === "service" ? [c.type.value.type] : []);
  }
}

/** resources.go: volumes registered on create, cleaned up LIFO after each spec. */
export class Resources {
  #volumes: string[] = [];
  constructor(readonly sc: Sanity, readonly withNodeClient: boolean) {}

  async createVolume(request: CreateRequest) {
    const response = await this.sc.controller.call(CM.createVolume, request);
    if (response.volume?.volumeId) this.#volumes.push(response.volume.volumeId);
    return response;
  }
  async mustCreateVolume(request: CreateRequest): Promise<Volume> {
    const { volume } = await this.createVolume(request);
    assert.ok(volume?.volumeId, "volume ID in response is missing");
    return volume;
  }
  async deleteVolume(volumeId: string) {
    await this.sc.controller.call(CM.deleteVolume, { volumeId });
    const index = this.#volumes.indexOf(volumeId);
    if (index >= 0) this.#volumes.splice(index, 1);
  }
  async cleanup(): Promise<void> {
    const { node, controller, target, stagingPath } = this.sc;
    const errors: string[] = [];
    /** isRelevantError for the node calls (all but OK and NOT_FOUND); DeleteVolume must succeed. */
    const check = async (call: Promise<unknown>, what: string, missingOk = true) => {
      const code = await statusCode(call);
      if (code && !(missingOk && code === Code.NOT_FOUND)) {
        errors.push(`${what}: ${codeName(code)}`);
      }
    };
    for (const volumeId of this.#volumes.reverse()) {
      if (this.withNodeClient) {
        const unpublish = { volumeId, targetPath: target };
        await check(node.call(NM.nodeUnpublishVolume, unpublish), "NodeUnpublish");
        if (await this.sc.nodeCap(NCap.STAGE_UNSTAGE_VOLUME)) {
          const unstage = { volumeId, stagingTargetPath: stagingPath };
          await check(node.call(NM.nodeUnstageVolume, unstage), "NodeUnstage");
        }
      }
      await check(
        controller.call(CM.deleteVolume, { volumeId }),
        `DeleteVolume ${volumeId}`,
        false,
      );
    }
    this.#volumes = [];
    assert.deepEqual(errors, [], "resource cleanup failed");
  }
}

export type Body = (r: Resources) => Promise<unknown>;
export interface Describe {
  readonly name: string;
  /** The Describe's BeforeEach; a spec sanity would Skip() is asserted to apply instead. */
  readonly before?: () => Promise<unknown>;
  /** ExpandVolume's Resources has no NodeClient: its cleanup only deletes. */
  readonly withNodeClient?: boolean;
}

/** One It(): Setup (mkdir of both dirs), BeforeEach, the body, r.Cleanup(), Teardown. */
function it(t: Deno.TestContext, sc: Sanity, describe: Describe, name: string, body: Body) {
  return t.step(`csi-sanity ${describe.name} ${name}`, async () => {
    await Deno.mkdir(sc.targetPath); // an error if a previous spec left it (still mounted)
    await Deno.mkdir(sc.stagingPath);
    const r = new Resources(sc, describe.withNodeClient ?? true);
    let failure: unknown;
    try {
      await describe.before?.();
      await body(r);
    } catch (error) {
      failure = error;
    }
    await r.cleanup().catch((error) => failure ??= error);
    await Deno.remove(sc.targetPath).catch(() => undefined);
    await Deno.remove(sc.stagingPath).catch(() => undefined);
    if (failure) throw failure;
  });
}

/** A Describe's Its: `spec(name, body)`, and `fail(code, {name: call})` for the negative ones. */
export function describe(t: Deno.TestContext, sc: Sanity, d: Describe) {
  const spec = (name: string, body: Body) => it(t, sc, d, name, body);
  const fail = async (code: number, calls: Record<string, Body>) => {
    for (const [name, call] of Object.entries(calls)) {
      await spec(name, (r) => expectCode(call(r), code));
    }
  };
  return { spec, fail };
}

/** A simulator and both driver processes, in this test's own mount namespace. */
export class SanityEnv implements AsyncDisposable {
  sim?: Sim;
  readonly drivers: DriverProcess[] = [];
  readonly stateDirs: string[];
  constructor(readonly dir: AsyncDisposable & { path: string }, sharedStateDir: boolean) {
    const states = sharedStateDir ? ["state"] : ["node-state", "controller-state"];
    this.stateDirs = states.map((name) => `${dir.path}/${name}`);
  }
  get sc(): Sanity {
    return new Sanity(this.drivers[0].client, this.drivers[1].client, this.kubeletDir);
  }

  /** Holds sanity's staging and target paths (sanity's own default is /tmp). */
  get kubeletDir(): string {
    return `${this.dir.path}/kubelet`;
  }

  async start(): Promise<void> {
    await Deno.mkdir(this.kubeletDir);
    const sim = this.sim = await startSim(`${this.dir.path}/sim`);
    for (const [i, mode] of (["node", "controller"] as const).entries()) {
      await Deno.mkdir(`${this.dir.path}/${mode}`);
      const stateDir = this.stateDirs.at(i) ?? this.stateDirs[0];
      const args = ["--path-env", sim.pathEnv, "--state-dir", stateDir];
      // As the manifests install it with the controller: one capability set for both.
      if (mode === "node") args.push("--controller-service", "true");
      // The node confines staging and target paths to its kubelet dir: sanity's lie in it.
      if (mode === "node") args.push("--kubelet-dir", this.kubeletDir);
      this.drivers.push(await startDriver({ mode, dir: `${this.dir.path}/${mode}`, args }));
    }
  }

  /**
   * Nothing the drivers made is left: on fs1 only the (empty) records folder; below the temp
   * dir no mount but the simulator's, the state dirs' private self-binds and the controller's
   * fs1 mount (kept while it runs); after the drivers stop and `down`, none at all.
   */
  async verifyClean(): Promise<void> {
    const sim = this.sim!;
    const fs1 = `${sim.root}/srv/fs1/backing store/fs1`;
    const names = async (path: string) =>
      (await Array.fromAsync(Deno.readDir(path))).map((e) => e.name);
    assert.deepEqual(await names(fs1), [".klustre-csi"], "no volume directory is left on fs1");
    assert.deepEqual(await names(`${fs1}/.klustre-csi/volumes`), [], "no volume record is left");
    const mounts = async () =>
      (await mountsBelow(this.dir.path)).filter((p) => !p.startsWith(`${sim.root}/`)).sort();
    const kept = `${this.stateDirs.at(-1)}/controller-mounts/fs1-`;
    const running = (await mounts()).map((p) => p.startsWith(kept) ? "controller's fs1" : p).sort();
    assert.deepEqual(running, [...this.stateDirs, "controller's fs1"].sort());
    for (const driver of this.drivers) await driver.stop();
    await sim[Symbol.asyncDispose]();
    assert.deepEqual(await mounts(), []);
  }

  async [Symbol.asyncDispose]() {
    for (const driver of this.drivers) await driver.stop("SIGKILL").catch(() => undefined);
    await this.sim?.[Symbol.asyncDispose]().catch(() => undefined);
    await this.dir[Symbol.asyncDispose]();
  }
}
