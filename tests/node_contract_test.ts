/** Node RPCs row by row of the CSI contract, through the real socket against the simulator. */
import assert from "node:assert/strict";
import { Node, VolumeCapability_AccessMode_Mode as Mode } from "../src/csi/gen/csi_pb.ts";
import { Code } from "../src/csi/csi_error.ts";
import { capability, FS1, startNodeEnv } from "./support/node_env.ts";
import { mountsBelow, stagingPath, targetPath } from "./support/kubelet.ts";
import { errorMessage, statusCode } from "./support/calls.ts";

Deno.test("NodeStageVolume() and NodePublishVolume() are idempotent; conflicts are ALREADY_EXISTS", async () => {
  await using env = await startNodeEnv();
  const c = env.driver.client;
  const ctx = { source: FS1 };
  await Deno.mkdir("/tmp", { recursive: true });
  const staging = await env.stage("pv-i", ctx);
  await env.stage("pv-i", ctx);
  assert.equal((await env.sim.lustreMounts()).length, 1);
  const target = await env.publish("pv-i", "pod-1", ctx);
  await env.publish("pv-i", "pod-1", ctx);
  const stacked = (await mountsBelow(env.kubeletDir)).filter((p) => p === target);
  assert.equal(stacked.length, 1, "publishing twice gives one mount");
  assert.equal(
    await statusCode(env.publish("pv-i", "pod-1", ctx, { readonly: true })),
    Code.ALREADY_EXISTS,
  );
  await Deno.mkdir(`${env.dir}/sim-other`, { recursive: true });
  // Same staging path, another directory of the file system: ALREADY_EXISTS.
  const other = await errorMessage(c.call(Node.method.nodeStageVolume, {
    volumeId: "pv-i",
    stagingTargetPath: staging,
    volumeCapability: capability(),
    volumeContext: { source: FS1, subdir: await env.sim.mkdir("fs1", "elsewhere") },
  }));
  assert.match(other, /^6: .*already staged there with directory/);
  assert.equal(
    await statusCode(c.call(Node.method.nodeStageVolume, {
      volumeId: "pv-i",
      stagingTargetPath: staging,
      volumeCapability: capability(Mode.MULTI_NODE_READER_ONLY),
      volumeContext: ctx,
    })),
    Code.ALREADY_EXISTS,
  );
});

Deno.test("NodeUnpublishVolume() and NodeUnstageVolume() of nothing succeed", async () => {
  await using env = await startNodeEnv();
  const c = env.driver.client;
  const target = await targetPath(env.kubeletDir, "pod-x", "pv-none");
  assert.equal(
    await statusCode(
      c.call(Node.method.nodeUnpublishVolume, { volumeId: "pv-none", targetPath: target }),
    ),
    Code.OK,
  );
  await Deno.mkdir(target);
  assert.equal(
    await statusCode(
      c.call(Node.method.nodeUnpublishVolume, { volumeId: "pv-none", targetPath: target }),
    ),
    Code.OK,
  );
  await assert.rejects(Deno.lstat(target), Deno.errors.NotFound, "the target dir is removed");
  const staging = await stagingPath(env.kubeletDir, "pv-none");
  assert.equal(
    await statusCode(
      c.call(Node.method.nodeUnstageVolume, { volumeId: "pv-none", stagingTargetPath: staging }),
    ),
    Code.OK,
  );
  assert.equal(
    await statusCode(
      c.call(Node.method.nodeUnstageVolume, { volumeId: "pv-none", stagingTargetPath: staging }),
    ),
    Code.OK,
  );
});

Deno.test("NodeUnpublishVolume() never deletes what is inside a target that is not mounted", async () => {
  await using env = await startNodeEnv();
  const target = await targetPath(env.kubeletDir, "pod-y", "pv-y");
  await Deno.mkdir(target);
  await Deno.writeTextFile(`${target}/keep.txt`, "precious");
  const result = await statusCode(env.driver.client.call(Node.method.nodeUnpublishVolume, {
    volumeId: "pv-y",
    targetPath: target,
  }));
  assert.notEqual(result, Code.OK);
  assert.equal(await Deno.readTextFile(`${target}/keep.txt`), "precious");
});

Deno.test("NodePublishVolume() checks the capability before the staging path", async () => {
  await using env = await startNodeEnv();
  const target = await targetPath(env.kubeletDir, "pod-1", "pv-c");
  const result = await statusCode(env.driver.client.call(Node.method.nodePublishVolume, {
    volumeId: "pv-c",
    targetPath: target,
  }));
  assert.equal(result, Code.INVALID_ARGUMENT);
});

Deno.test("NodePublishVolume() needs a staged volume and a staging path", async () => {
  await using env = await startNodeEnv();
  const c = env.driver.client;
  const target = await targetPath(env.kubeletDir, "pod-1", "pv-p");
  const base = {
    volumeId: "pv-p",
    targetPath: target,
    volumeCapability: capability(),
    volumeContext: { source: FS1 },
  };
  assert.equal(
    await statusCode(c.call(Node.method.nodePublishVolume, base)),
    Code.FAILED_PRECONDITION,
  );
  const staging = await stagingPath(env.kubeletDir, "pv-p");
  assert.equal(
    await statusCode(
      c.call(Node.method.nodePublishVolume, { ...base, stagingTargetPath: staging }),
    ),
    Code.FAILED_PRECONDITION,
  );
  await assert.rejects(Deno.lstat(target), Deno.errors.NotFound, "no target is left behind");
});

Deno.test("NodePublishVolume(readonly) gives a read-only bind; a reader-only access mode too", async () => {
  await using env = await startNodeEnv();
  const ctx = { source: FS1 };
  await env.stage("pv-ro", ctx);
  const rw = await env.publish("pv-ro", "writer", ctx);
  const ro = await env.publish("pv-ro", "reader", ctx, { readonly: true });
  await Deno.writeTextFile(`${rw}/f.txt`, "data");
  assert.equal(await Deno.readTextFile(`${ro}/f.txt`), "data");
  await assert.rejects(
    Deno.writeTextFile(`${ro}/g.txt`, "x"),
    (e: Error) => /read-only/i.test(e.message),
  );
  const roxCtx = { source: FS1, subdir: await env.sim.mkdir("fs1", "rox") };
  await env.stage("pv-rox", roxCtx, { mode: Mode.MULTI_NODE_READER_ONLY });
  const rox = await env.publish("pv-rox", "reader2", roxCtx, {
    mode: Mode.MULTI_NODE_READER_ONLY,
  });
  await assert.rejects(
    Deno.writeTextFile(`${rox}/g.txt`, "x"),
    (e: Error) => /read-only/i.test(e.message),
  );
});

Deno.test("NodePublishVolume() follows the access mode for a second target on one node", async () => {
  await using env = await startNodeEnv();
  for (
    const [mode, second] of [
      [Mode.MULTI_NODE_MULTI_WRITER, Code.OK],
      [Mode.SINGLE_NODE_MULTI_WRITER, Code.OK],
      [Mode.SINGLE_NODE_WRITER, Code.FAILED_PRECONDITION],
      [Mode.SINGLE_NODE_SINGLE_WRITER, Code.FAILED_PRECONDITION],
    ] as const
  ) {
    const id = `pv-mode-${mode}`;
    const ctx = { source: FS1, subdir: await env.sim.mkdir("fs1", id) };
    await env.stage(id, ctx, { mode });
    await env.publish(id, "pod-1", ctx, { mode });
    assert.equal(
      await statusCode(env.publish(id, "pod-1", ctx, { mode })),
      Code.OK,
      `same target, mode ${mode}`,
    );
    assert.equal(await statusCode(env.publish(id, "pod-2", ctx, { mode })), second, `mode ${mode}`);
  }
});

Deno.test("NodePublishVolume() of a single-target volume to 8 targets at once binds exactly one", async () => {
  await using env = await startNodeEnv();
  const mode = Mode.SINGLE_NODE_SINGLE_WRITER;
  const ctx = { source: FS1, subdir: await env.sim.mkdir("fs1", "rwop") };
  await env.stage("pv-rwop", ctx, { mode });
  const pods = Array.from({ length: 8 }, (_, i) => `pod-${i}`);
  const codes = await Promise.all(
    pods.map((pod) => statusCode(env.publish("pv-rwop", pod, ctx, { mode }))),
  );
  assert.equal(codes.filter((c) => c === Code.OK).length, 1, `codes ${codes}`);
  assert.equal(codes.filter((c) => c === Code.FAILED_PRECONDITION).length, 7, `codes ${codes}`);
  const published = (await mountsBelow(env.kubeletDir)).filter((p) => p.includes("/pods/"));
  assert.equal(published.length, 1, published.join(" "));
  const winner = pods[codes.indexOf(Code.OK)];
  await env.unpublish("pv-rwop", winner);
  await env.unstage("pv-rwop");
});

Deno.test("node RPCs refuse bad input with INVALID_ARGUMENT and mount nothing", async () => {
  await using env = await startNodeEnv();
  const c = env.driver.client;
  const staging = await stagingPath(env.kubeletDir, "pv-bad");
  const target = await targetPath(env.kubeletDir, "pod-bad", "pv-bad");
  const stage = (patch: Record<string, unknown>) =>
    c.call(Node.method.nodeStageVolume, {
      volumeId: "pv-bad",
      stagingTargetPath: staging,
      volumeCapability: capability(),
      volumeContext: { source: FS1 },
      ...patch,
    });
  const block = {
    accessType: { case: "block" as const, value: {} },
    accessMode: { mode: Mode.MULTI_NODE_MULTI_WRITER },
  };
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ["no volume id", () => stage({ volumeId: "" }), /"volumeId" is required/],
    ["no staging path", () => stage({ stagingTargetPath: "" }), /"stagingTargetPath" is required/],
    [
      "relative staging path",
      () => stage({ stagingTargetPath: "relative/path" }),
      /"relative\/path" is not an absolute/,
    ],
    [
      "dot-dot staging path",
      () => stage({ stagingTargetPath: `${staging}/../../x` }),
      /not an absolute, normalised path/,
    ],
    [
      "no capability",
      () => stage({ volumeCapability: undefined }),
      /"volumeCapability" is required/,
    ],
    ["block access", () => stage({ volumeCapability: block }), /block access is not supported/],
    [
      "fs type",
      () =>
        stage({
          volumeCapability: {
            ...capability(),
            accessType: { case: "mount", value: { fsType: "ext4" } },
          },
        }),
      /"fsType" "ext4"/,
    ],
    [
      "no access mode",
      () => stage({ volumeCapability: { accessType: { case: "mount", value: {} } } }),
      /accessMode" is required/,
    ],
    ["no source", () => stage({ volumeContext: { subdir: "a" } }), /"source" is required/],
    [
      "bad source",
      () => stage({ volumeContext: { source: "10.0.0.1:/fs1" } }),
      /source "10\.0\.0\.1:\/fs1" is refused/,
    ],
    [
      "bad network",
      () => stage({ volumeContext: { source: "10.0.0.1@udp:/fs1" } }),
      /unknown network type/,
    ],
    [
      "source escape",
      () => stage({ volumeContext: { source: "10.0.0.1@tcp:/fs1/../../etc" } }),
      /"\.\."/,
    ],
    [
      "subdir escape",
      () => stage({ volumeContext: { source: FS1, subdir: "../x" } }),
      /subdir "\.\.\/x" is refused/,
    ],
    [
      "absolute subdir",
      () => stage({ volumeContext: { source: FS1, subdir: "/etc" } }),
      /absolute path/,
    ],
    [
      "unknown option",
      () => stage({ volumeContext: { source: FS1, mountOptions: "flock,exclusive" } }),
      /"exclusive" is refused/,
    ],
    [
      "shell option",
      () => stage({ volumeContext: { source: FS1, mountOptions: "flock;reboot" } }),
      /"flock;reboot" is refused/,
    ],
    [
      "dangerous flag",
      () => stage({ volumeCapability: capability(Mode.MULTI_NODE_MULTI_WRITER, ["remount"]) }),
      /"remount" is refused/,
    ],
    [
      "unknown attribute",
      () => stage({ volumeContext: { source: FS1, sudir: "a" } }),
      /"sudir" is not known/,
    ],
    [
      "publish no target",
      () =>
        c.call(Node.method.nodePublishVolume, {
          volumeId: "pv-bad",
          stagingTargetPath: staging,
          volumeCapability: capability(),
          volumeContext: { source: FS1 },
        }),
      /"targetPath" is required/,
    ],
    [
      "publish relative target",
      () =>
        c.call(Node.method.nodePublishVolume, {
          volumeId: "pv-bad",
          targetPath: "x/mount",
          stagingTargetPath: staging,
          volumeCapability: capability(),
          volumeContext: { source: FS1 },
        }),
      /"targetPath" "x\/mount"/,
    ],
    [
      "unpublish no volume id",
      () => c.call(Node.method.nodeUnpublishVolume, { targetPath: target }),
      /"volumeId" is required/,
    ],
    [
      "unpublish no target",
      () => c.call(Node.method.nodeUnpublishVolume, { volumeId: "pv-bad" }),
      /"targetPath" is required/,
    ],
    [
      "unstage no volume id",
      () => c.call(Node.method.nodeUnstageVolume, { stagingTargetPath: staging }),
      /"volumeId" is required/,
    ],
    [
      "unstage no path",
      () => c.call(Node.method.nodeUnstageVolume, { volumeId: "pv-bad" }),
      /"stagingTargetPath" is required/,
    ],
    [
      "stats no volume id",
      () => c.call(Node.method.nodeGetVolumeStats, { volumePath: staging }),
      /"volumeId" is required/,
    ],
    [
      "stats no path",
      () => c.call(Node.method.nodeGetVolumeStats, { volumeId: "pv-bad" }),
      /"volumePath" is required/,
    ],
  ];
  for (const [name, call, pattern] of cases) {
    const text = await errorMessage(call());
    assert.match(text, /^3: /, `${name}: ${text}`);
    assert.match(text, pattern, name);
  }
  assert.match(
    await errorMessage(stage({ volumeContext: {} })),
    /^5: .*not a volume of this driver/,
    "no attributes and a foreign volume ID: the volume does not exist",
  );
  assert.equal((await env.sim.mountAttempts()).length, 0, "no mount.lustre was run");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
});

Deno.test("NodeStageVolume() maps Lustre failures to codes and keeps the tool's message", async () => {
  await using env = await startNodeEnv({ driverArgs: ["--mount-timeout-ms", "5000"] });
  const c = env.driver.client;
  const stage = async (id: string, context: Record<string, string>) => {
    const staging = await stagingPath(env.kubeletDir, id);
    return c.call(Node.method.nodeStageVolume, {
      volumeId: id,
      stagingTargetPath: staging,
      volumeCapability: capability(),
      volumeContext: context,
    });
  };
  const unknownFs = await errorMessage(stage("pv-nofs", { source: "10.0.0.1@tcp:/nofs" }));
  assert.match(unknownFs, /^5: .*pv-nofs.*Is the MGS specification correct\?/);
  const noDir = await errorMessage(stage("pv-nodir", { source: FS1, subdir: "missing" }));
  assert.match(noDir, /^5: .*directory "\/missing" does not exist/);
  await env.sim.fault("mgs-down", "--delay-ms", "100");
  const mgs = await errorMessage(stage("pv-mgs", { source: "10.0.0.1@tcp:/fs2" }));
  assert.match(mgs, /^14: .*Is the MGS running\?/);
  await env.sim.fault("mgs-up");
  await env.sim.fault("modules-missing", "on");
  const modules = await errorMessage(stage("pv-mod", { source: "10.0.0.1@tcp:/fs2" }));
  // Refused by the client check, or by mount.lustre while a ready answer is still cached.
  assert.match(
    modules,
    /^9: .*(the Lustre client is not ready: Lustre modules do not answer|Are the lustre modules loaded\?)/,
  );
  await env.sim.fault("modules-missing", "off");
  const badOption = await errorMessage(
    stage("pv-opt", { source: "10.0.0.1@tcp:/fs2", mountOptions: "unique_fsid" }),
  );
  assert.match(badOption, /^3: /);
  assert.deepEqual(
    await mountsBelow(env.kubeletDir),
    [env.kubeletDir],
    "failed stages leave no mount",
  );
});

Deno.test("NodeGetVolumeStats() reports bytes and inodes, and NOT_FOUND off a volume", async () => {
  await using env = await startNodeEnv();
  const c = env.driver.client;
  const ctx = { source: FS1 };
  const staging = await env.stage("pv-s", ctx);
  const target = await env.publish("pv-s", "pod-s", ctx);
  const stats = await c.call(Node.method.nodeGetVolumeStats, {
    volumeId: "pv-s",
    volumePath: target,
    stagingTargetPath: staging,
  });
  const bytes = stats.usage.find((u) => u.unit === 1)!;
  const inodes = stats.usage.find((u) => u.unit === 2)!;
  assert.equal(bytes.total, 1024n ** 3n, "the simulated fs1 holds 1 GiB");
  assert.ok(bytes.available > 0n && bytes.available <= bytes.total);
  assert.equal(inodes.total, 262144n);
  assert.equal(stats.volumeCondition?.abnormal, false);
  assert.equal(
    await statusCode(
      c.call(Node.method.nodeGetVolumeStats, { volumeId: "pv-s", volumePath: `${env.dir}` }),
    ),
    Code.NOT_FOUND,
  );
  assert.equal(
    await statusCode(
      c.call(Node.method.nodeGetVolumeStats, { volumeId: "pv-s", volumePath: `${env.dir}/nope` }),
    ),
    Code.NOT_FOUND,
  );
  assert.equal(
    await statusCode(
      c.call(Node.method.nodeGetVolumeStats, { volumeId: "pv-s", volumePath: env.kubeletDir }),
    ),
    Code.NOT_FOUND,
    "a mount that is not a Lustre volume is not a volume",
  );
  assert.equal(
    await statusCode(
      c.call(Node.method.nodeGetVolumeStats, { volumeId: "pv-s", volumePath: "some/path" }),
    ),
    Code.NOT_FOUND,
    "a relative path names no volume (csi-sanity expects NOT_FOUND)",
  );
});

Deno.test("a PV written for the Klustre plugin works unchanged", async () => {
  await using env = await startNodeEnv({
    simState: { fileSystems: [{ name: "lustre-fs" }] },
  });
  const ctx = { source: "10.0.0.1@tcp0:/lustre-fs", mountOptions: "flock,user_xattr" };
  await env.stage("lustre-static-pv", ctx);
  const target = await env.publish("lustre-static-pv", "busybox", ctx);
  await Deno.writeTextFile(`${target}/ok`, "ok");
  const [mount] = await env.sim.lustreMounts();
  assert.equal(mount.argv[0], "10.0.0.1@tcp:/lustre-fs");
  assert.ok(mount.argv.join(" ").includes("flock,user_xattr"));
});
