/**
 * csi-sanity (kubernetes-csi/csi-test v5, pkg/sanity: identity.go, controller.go, node.go)
 * re-enacted against the real node and controller processes on the Lustre simulator, as
 * `csi-sanity --csi.endpoint NODE --csi.controllerendpoint CONTROLLER` with the test volume
 * parameter `source=10.0.0.1@tcp:/fs1` runs them: every It() that applies to our capabilities,
 * with sanity's request shapes and expectations, its Setup, AfterEach cleanup and Teardown
 * (tests/support/sanity.ts). Where sanity would Skip a spec that applies, it runs here anyway
 * and a comment says so; a BeforeEach's Skip for a capability we advertise is asserted.
 *
 * Not re-enacted, as sanity skips them for our capabilities: GetCapacity, ListVolumes,
 * Controller(Un)PublishVolume and "volume lifecycle" (no PUBLISH_UNPUBLISH_VOLUME), snapshots and
 * volume sources (no CREATE_DELETE_SNAPSHOT, CLONE_VOLUME), NodeExpandVolume (no node
 * EXPAND_VOLUME).
 */
import assert from "node:assert/strict";
import {
  ControllerServiceCapability_RPC_Type as CCap,
  Identity,
  NodeServiceCapability_RPC_Type as NCap,
  PluginCapability_Service_Type as Service,
  PluginCapability_VolumeExpansion_Type as Expansion,
  type Volume,
} from "../src/csi/gen/csi_pb.ts";
import { Code } from "../src/csi/csi_error.ts";
import { tempDir } from "./support/driver.ts";
import {
  CM,
  createRequest,
  describe,
  EXPAND_SIZE,
  expectCode,
  IDEMPOTENT_COUNT,
  INVALID_VOLUME_ID,
  mountCap,
  newVolume,
  NM,
  PARAMS,
  type Resources,
  type Sanity,
  SanityEnv,
  SIZE,
  sized,
  unique,
  validVolumeId,
} from "./support/sanity.ts";

const { INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS } = Code;

/** identity.go, against the node endpoint (sc.Conn) as sanity runs it. */
async function identitySpecs(t: Deno.TestContext, sc: Sanity) {
  const { spec } = describe(t, sc, { name: "Identity Service" });
  await spec("GetPluginCapabilities should return appropriate capabilities", async () => {
    const { capabilities } = await sc.node.call(Identity.method.getPluginCapabilities, {});
    for (const { type } of capabilities) {
      const known: number[] = type.case === "service"
        ? [Service.CONTROLLER_SERVICE, Service.VOLUME_ACCESSIBILITY_CONSTRAINTS]
        : type.case === "volumeExpansion"
        ? [Expansion.ONLINE, Expansion.OFFLINE]
        : [];
      assert.ok(known.includes(type.value?.type ?? -1), `Unknown capability: ${type.case}`);
    }
  });
  await spec(
    "GetPluginCapabilities answers the same set from the node and the controller",
    async () => {
      const services = async (client: typeof sc.node) =>
        (await client.call(Identity.method.getPluginCapabilities, {})).capabilities.map((c) =>
          `${c.type.case}:${c.type.value?.type}`
        ).sort();
      const fromNode = await services(sc.node);
      assert.deepEqual(fromNode, await services(sc.controller));
      assert.ok(fromNode.includes(`service:${Service.CONTROLLER_SERVICE}`));
    },
  );
  await spec("Probe should return appropriate information", async () => {
    const { ready } = await sc.node.call(Identity.method.probe, {});
    assert.ok(ready === undefined || typeof ready === "boolean");
  });
  await spec("GetPluginInfo should return appropriate information", async () => {
    const { name } = await sc.node.call(Identity.method.getPluginInfo, {});
    assert.ok(name.length > 0 && name.length <= 63);
    assert.match(name, /^[a-zA-Z][A-Za-z0-9-\.\_]{0,61}[a-zA-Z]$/);
  });
}

/** controller.go: "Controller Service [Controller Server]", "ExpandVolume [Controller Server]". */
async function controllerSpecs(t: Deno.TestContext, sc: Sanity) {
  const C = "Controller Service [Controller Server]";
  // The Describes' BeforeEach: Skip unless advertised; here, asserted.
  const supports = (cap: CCap) => async () => assert.ok(await sc.controllerCap(cap), CCap[cap]);
  const { controller } = sc;
  const [validate, expand] = [CM.validateVolumeCapabilities, CM.controllerExpandVolume];

  const gc = describe(t, sc, { name: `${C} ControllerGetCapabilities` });
  await gc.spec("should return appropriate capabilities", async () => {
    const { capabilities } = await controller.call(CM.controllerGetCapabilities, {});
    assert.ok(capabilities.length > 0);
    for (const { type } of capabilities) {
      assert.equal(type.case, "rpc");
      // sanity's list: CREATE_DELETE_VOLUME (1) to MODIFY_VOLUME (14), not GET_SNAPSHOT (15).
      const known = type.value.type >= CCap.CREATE_DELETE_VOLUME &&
        type.value.type <= CCap.MODIFY_VOLUME;
      assert.ok(known, `Unknown capability: ${type.value.type}`);
    }
  });

  const cv = describe(t, sc, {
    name: `${C} CreateVolume`,
    before: supports(CCap.CREATE_DELETE_VOLUME),
  });
  await cv.fail(INVALID_ARGUMENT, {
    "should fail when no name is provided": (r) => r.createVolume({ parameters: PARAMS }),
    "should fail when no volume capabilities are provided": (r) =>
      r.createVolume({
        name: unique("sanity-controller-create-no-volume-capabilities"),
        parameters: PARAMS,
      }),
  });
  // sanity's "NoCapacity" request carries RequiredBytes: TestVolumeSize all the same.
  await cv.spec(
    "should return appropriate values SingleNodeWriter NoCapacity",
    (r) => newVolume(r, "sanity-controller-create-single-no-capacity"),
  );
  // sanity would Skip on OUT_OF_RANGE or UNIMPLEMENTED; we serve required_bytes: no skip here.
  await cv.spec("should return appropriate values SingleNodeWriter WithCapacity 1Gi", async (r) => {
    sized(await newVolume(r, "sanity-controller-create-single-with-capacity"));
  });
  const twice = "requesting to create a volume with already existing name";
  await cv.spec(`should not fail when ${twice} and same capacity`, async (r) => {
    const request = createRequest(unique("sanity-controller-create-twice"));
    const vol1 = await r.mustCreateVolume(request);
    sized(vol1);
    const vol2 = await r.mustCreateVolume(request);
    sized(vol2);
    assert.equal(vol1.volumeId, vol2.volumeId);
  });
  await cv.spec(`should fail when ${twice} and different capacity`, async (r) => {
    const name = unique("sanity-controller-create-twice-different");
    const capacity = (bytes: bigint) => ({
      capacityRange: { requiredBytes: bytes, limitBytes: bytes },
    });
    await r.mustCreateVolume(createRequest(name, capacity(SIZE)));
    await expectCode(r.createVolume(createRequest(name, capacity(2n * SIZE))), ALREADY_EXISTS);
  });
  await cv.spec("should not fail when creating volume with maximum-length name", async (r) => {
    // UniqueStringWithLength(prefix, MaxNameLength): the unique string padded to 128 characters.
    const name = unique("sanity-controller-create-maxlen").padEnd(128, "x");
    sized(await r.mustCreateVolume(createRequest(name)));
  });

  const dv = describe(t, sc, {
    name: `${C} DeleteVolume`,
    before: supports(CCap.CREATE_DELETE_VOLUME),
  });
  await dv.fail(INVALID_ARGUMENT, {
    "should fail when no volume id is provided": (r) => r.deleteVolume(""),
  });
  await dv.spec(
    "should succeed when an invalid volume id is used",
    (r) => r.deleteVolume(INVALID_VOLUME_ID),
  );
  await dv.spec("should return appropriate values (no optional values added)", async (r) => {
    const vol = await newVolume(r, "sanity-controller-create-appropriate");
    await r.deleteVolume(vol.volumeId);
  });

  const vv = describe(t, sc, { name: `${C} ValidateVolumeCapabilities` });
  await vv.fail(INVALID_ARGUMENT, {
    "should fail when no volume id is provided": () => controller.call(validate, {}),
    "should fail when no volume capabilities are provided": async (r) => {
      const vol = await newVolume(r, "sanity-controller-validate-nocaps");
      return controller.call(validate, { volumeId: vol.volumeId });
    },
  });
  await vv.spec("should return appropriate values (no optional values added)", async (r) => {
    const vol = await newVolume(r, "sanity-controller-validate");
    const request = { volumeId: vol.volumeId, volumeCapabilities: [mountCap()] };
    const { confirmed } = await controller.call(validate, request);
    if (confirmed) assert.ok(confirmed.volumeCapabilities.length > 0);
  });
  await vv.fail(NOT_FOUND, {
    "should fail when the requested volume does not exist": () =>
      controller.call(validate, { volumeId: validVolumeId(), volumeCapabilities: [mountCap()] }),
  });

  const ev = describe(t, sc, {
    name: "ExpandVolume [Controller Server]",
    before: supports(CCap.EXPAND_VOLUME),
    withNodeClient: false,
  });
  await ev.fail(INVALID_ARGUMENT, {
    "should fail if no volume id is given": () =>
      controller.call(expand, { volumeId: "", capacityRange: { requiredBytes: EXPAND_SIZE } }),
    // sanity sends an empty volume ID here too.
    "should fail if no capacity range is given": () => controller.call(expand, { volumeId: "" }),
  });
  await ev.spec("should work", async (r) => {
    const vol = await newVolume(r, "sanity-expand-volume");
    const capacityRange = { requiredBytes: EXPAND_SIZE };
    const request = { volumeId: vol.volumeId, capacityRange, volumeCapability: mountCap() };
    assert.equal((await controller.call(expand, request)).capacityBytes, EXPAND_SIZE);
  });
}

/** node.go's BeforeEach: the capabilities it reads from both endpoints. */
async function nodeBeforeEach(sc: Sanity) {
  const providesControllerService = (await sc.services()).includes(Service.CONTROLLER_SERVICE);
  // controllerPublishSupported needs that; without PUBLISH_UNPUBLISH_VOLUME it is false anyway.
  assert.ok(!(await sc.controllerCap(CCap.PUBLISH_UNPUBLISH_VOLUME)));
  const stage = await sc.nodeCap(NCap.STAGE_UNSTAGE_VOLUME);
  const stats = await sc.nodeCap(NCap.GET_VOLUME_STATS);
  await sc.nodeCap(NCap.EXPAND_VOLUME);
  await sc.controllerCap(CCap.EXPAND_VOLUME);
  return { providesControllerService, stage, stats };
}

/** NodeStageVolume (if supported), then NodePublishVolume at TargetPath+"/target", `count`x. */
async function stageAndPublish(sc: Sanity, vol: Volume, stage: boolean, count = 1) {
  const { volumeId, volumeContext } = vol;
  const base = { volumeId, volumeCapability: mountCap(), volumeContext };
  for (let i = 0; stage && i < count; i++) {
    await sc.node.call(NM.nodeStageVolume, { ...base, stagingTargetPath: sc.stagingPath });
  }
  const stagingTargetPath = stage ? sc.stagingPath : "";
  for (let i = 0; i < count; i++) {
    await sc.node.call(NM.nodePublishVolume, { ...base, targetPath: sc.target, stagingTargetPath });
  }
}

/** runControllerTest (no ControllerPublish): "should work" once, "should be idempotent" with 10. */
async function runControllerTest(sc: Sanity, r: Resources, count: number) {
  const { stage, stats } = await nodeBeforeEach(sc);
  const ni = await sc.node.call(NM.nodeGetInfo, {});
  assert.ok(ni.nodeId);
  const accessibilityRequirements = ni.accessibleTopology
    ? { requisite: [ni.accessibleTopology] }
    : undefined;
  const vol = await newVolume(r, `sanity-node-full-${count}`, { accessibilityRequirements });
  await stageAndPublish(sc, vol, stage, count);
  if (stats) {
    const request = { volumeId: vol.volumeId, volumePath: sc.target };
    const response = await sc.node.call(NM.nodeGetVolumeStats, request);
    assert.ok(response.usage.length > 0, "GetUsage() is not nil");
  }
}

/** node.go: "Node Service". */
async function nodeSpecs(t: Deno.TestContext, sc: Sanity) {
  const { node, target, stagingPath } = sc;
  const before = () => nodeBeforeEach(sc);
  /** A Describe of the Node Service; its own BeforeEach Skips unless `needs` is advertised. */
  const N = (name: string, needs?: "stage" | "stats") =>
    describe(t, sc, {
      name: `Node Service ${name}`.trim(),
      before: async () => assert.ok(needs ? (await before())[needs] : await before()),
    });
  const [publish, unpublish] = [NM.nodePublishVolume, NM.nodeUnpublishVolume];
  const [stage, unstage] = [NM.nodeStageVolume, NM.nodeUnstageVolume];
  const stats = NM.nodeGetVolumeStats;
  const device = { device: "/dev/mock" };
  const capAndDevice = { volumeCapability: mountCap(), publishContext: device };

  await N("NodeGetCapabilities").spec("should return appropriate capabilities", async () => {
    const { capabilities } = await node.call(NM.nodeGetCapabilities, {});
    for (const { type } of capabilities) {
      assert.equal(type.case, "rpc");
      // sanity's list: UNKNOWN (0) to VOLUME_MOUNT_GROUP (6).
      const known = type.value.type <= NCap.VOLUME_MOUNT_GROUP;
      assert.ok(known, `Unknown capability: ${type.value.type}`);
    }
  });
  await N("NodeGetInfo").spec("should return appropriate values", async () => {
    const accessibility = (await sc.services()).includes(Service.VOLUME_ACCESSIBILITY_CONSTRAINTS);
    assert.ok(accessibility, "advertised, so the topology check below applies");
    const info = await node.call(NM.nodeGetInfo, {});
    assert.ok(info.nodeId && info.maxVolumesPerNode >= 0n);
    if (accessibility) assert.ok(info.accessibleTopology);
  });

  await N("NodePublishVolume").fail(INVALID_ARGUMENT, {
    "should fail when no volume id is provided": () => node.call(publish, {}),
    "should fail when no target path is provided": () =>
      node.call(publish, { volumeId: validVolumeId() }),
    "should fail when no volume capability is provided": () =>
      node.call(publish, { volumeId: validVolumeId(), targetPath: target }),
  });

  const up = N("NodeUnpublishVolume");
  await up.fail(INVALID_ARGUMENT, {
    "should fail when no volume id is provided": () => node.call(unpublish, {}),
    "should fail when no target path is provided": () =>
      node.call(unpublish, { volumeId: validVolumeId() }),
  });
  await up.spec("should remove target path", async (r) => {
    const vol = await newVolume(r, "sanity-node-unpublish-volume");
    assert.ok((await node.call(NM.nodeGetInfo, {})).nodeId);
    await stageAndPublish(sc, vol, (await before()).stage);
    // CheckPath: not PathIsNotFound, "should have been created by CSI driver".
    await Deno.stat(target);
    await node.call(unpublish, { volumeId: vol.volumeId, targetPath: target });
    await assert.rejects(Deno.stat(target), Deno.errors.NotFound, "should have been removed");
  });

  await N("NodeStageVolume", "stage").fail(INVALID_ARGUMENT, {
    "should fail when no volume id is provided": () =>
      node.call(stage, { ...capAndDevice, stagingTargetPath: stagingPath }),
    "should fail when no staging target path is provided": () =>
      node.call(stage, { ...capAndDevice, volumeId: validVolumeId() }),
    "should fail when no volume capability is provided": async (r) => {
      const name = unique("sanity-node-stage-nocaps"); // no capacity range in this one
      const vol = await r.mustCreateVolume({ ...createRequest(name), capacityRange: undefined });
      const request = { volumeId: vol.volumeId, stagingTargetPath: stagingPath };
      return node.call(stage, { ...request, publishContext: device });
    },
  });

  await N("NodeUnstageVolume", "stage").fail(INVALID_ARGUMENT, {
    "should fail when no volume id is provided": () =>
      node.call(unstage, { stagingTargetPath: stagingPath }),
    "should fail when no staging target path is provided": () =>
      node.call(unstage, { volumeId: validVolumeId() }),
  });

  const gs = N("NodeGetVolumeStats", "stats");
  await gs.fail(INVALID_ARGUMENT, {
    "should fail when no volume id is provided": () =>
      node.call(stats, { volumePath: "some/path" }),
    "should fail when no volume path is provided": () =>
      node.call(stats, { volumeId: validVolumeId() }),
  });
  await gs.fail(NOT_FOUND, {
    "should fail when volume is not found": () =>
      node.call(stats, { volumeId: validVolumeId(), volumePath: "some/path" }),
    "should fail when volume does not exist on the specified path": async (r) => {
      const vol = await newVolume(r, "sanity-node-get-volume-stats");
      assert.ok((await node.call(NM.nodeGetInfo, {})).nodeId);
      await stageAndPublish(sc, vol, (await before()).stage);
      return node.call(stats, { volumeId: vol.volumeId, volumePath: "some/path" });
    },
  });

  // sanity Skips these two unless the node endpoint's GetPluginCapabilities lists
  // CONTROLLER_SERVICE ("Controller Service not provided"); with controllerService set, as the
  // manifests set it beside the controller, it does, so sanity runs them.
  const full = describe(t, sc, {
    name: "Node Service",
    before: async () => {
      const { providesControllerService } = await before();
      assert.ok(providesControllerService, "sanity would Skip: Controller Service not provided");
    },
  });
  await full.spec("should work", (r) => runControllerTest(sc, r, 1));
  await full.spec("should be idempotent", (r) => runControllerTest(sc, r, IDEMPOTENT_COUNT));
}

// The whole suite twice: node and controller with state dirs of their own, then sharing one (the
// controller keeps its mounts in "controller-mounts", apart from the node's "mounts").
for (const shared of [false, true]) {
  const how = shared ? "one state dir for both" : "a state dir each";
  Deno.test(`csi-sanity Identity, Controller, ExpandVolume and Node specs (${how})`, async (t) => {
    await using env = new SanityEnv(await tempDir("klustre-sanity-"), shared);
    await env.start();
    await identitySpecs(t, env.sc);
    await controllerSpecs(t, env.sc);
    await nodeSpecs(t, env.sc);
    await env.verifyClean();
  });
}
