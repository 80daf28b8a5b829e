/** Identity service and server behaviour, through the real driver's socket. */
import assert from "node:assert/strict";
import { Identity, Node, PluginCapability_Service_Type } from "../src/csi/gen/csi_pb.ts";
import { CallError } from "../src/grpc/client.ts";
import { Code } from "../src/csi/csi_error.ts";
import { DRIVER_NAME, DRIVER_VERSION } from "../src/version.ts";
import { startDriver, tempDir, writeScript } from "./support/driver.ts";

/** A bin dir with stand-in Lustre tools whose behaviour the test picks. */
async function fakeTools(dir: string, tools: { mount?: string; lctl?: string }) {
  const bin = `${dir}/bin`;
  await Deno.mkdir(bin, { recursive: true });
  if (tools.mount !== undefined) await writeScript(`${bin}/mount.lustre`, tools.mount);
  if (tools.lctl !== undefined) await writeScript(`${bin}/lctl`, tools.lctl);
  return bin;
}

/** Retries an assertion for up to 3 s: log lines arrive through a pipe. */
async function eventually(check: () => void | Promise<void>): Promise<void> {
  const deadline = Date.now() + 3000;
  while (true) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

const HEALTHY = {
  mount: 'echo "mount.lustre 2.15.6 (libmount)"',
  lctl: 'echo "2.15.6"',
};

Deno.test("GetPluginInfo() names the driver and its version", async () => {
  await using dir = await tempDir();
  await using driver = await startDriver({ dir: dir.path });
  const info = await driver.client.call(Identity.method.getPluginInfo, {});
  assert.equal(info.name, DRIVER_NAME);
  assert.equal(info.vendorVersion, DRIVER_VERSION);
});

Deno.test("GetPluginCapabilities() lists CONTROLLER_SERVICE where the deployment serves the controller", async () => {
  await using dir = await tempDir();
  const services = async (mode: "node" | "controller", args: string[] = []) => {
    await using driver = await startDriver({ dir: `${dir.path}`, mode, args });
    const response = await driver.client.call(Identity.method.getPluginCapabilities, {});
    const expansion = response.capabilities.filter((c) => c.type.case === "volumeExpansion");
    assert.equal(expansion.length, 1, "ONLINE expansion: the controller raises quotas any time");
    return response.capabilities.flatMap((c) =>
      c.type.case === "service" ? [c.type.value.type] : []
    );
  };
  assert.deepEqual(await services("node"), [
    PluginCapability_Service_Type.VOLUME_ACCESSIBILITY_CONSTRAINTS,
  ]);
  const withController = [
    PluginCapability_Service_Type.CONTROLLER_SERVICE,
    PluginCapability_Service_Type.VOLUME_ACCESSIBILITY_CONSTRAINTS,
  ].sort();
  assert.deepEqual((await services("controller")).sort(), withController);
  // One set from every instance of a deployment with a controller (controllerService).
  assert.deepEqual(
    (await services("node", ["--controller-service", "true"])).sort(),
    withController,
  );
});

Deno.test("Probe() is ready when mount.lustre runs and the modules answer", async () => {
  await using dir = await tempDir();
  const bin = await fakeTools(dir.path, HEALTHY);
  await using driver = await startDriver({ dir: dir.path, args: ["--path-env", bin] });
  const probe = await driver.client.call(Identity.method.probe, {});
  assert.equal(probe.ready, true);
});

Deno.test("Probe() stays ready when the Lustre tools are missing, and the log says why", async () => {
  await using dir = await tempDir();
  const bin = await fakeTools(dir.path, {});
  await using driver = await startDriver({ dir: dir.path, args: ["--path-env", bin] });
  const probe = await driver.client.call(Identity.method.probe, {});
  assert.equal(probe.ready, true, "liveness is about the driver, not Lustre");
  await eventually(() => assert.match(driver.logs(), /mount\.lustre\\" was not found/));
});

Deno.test("Probe() stays ready when the modules are not loaded, and the log says why", async () => {
  await using dir = await tempDir();
  const bin = await fakeTools(dir.path, {
    mount: HEALTHY.mount,
    lctl: "echo \"error: get_param: param_path 'version': No such file or directory\" >&2; exit 2",
  });
  await using driver = await startDriver({ dir: dir.path, args: ["--path-env", bin] });
  const probe = await driver.client.call(Identity.method.probe, {});
  assert.equal(probe.ready, true);
  await eventually(() =>
    assert.match(driver.logs(), /Lustre client not ready: .*Lustre modules do not answer/)
  );
});

Deno.test("Probe() answers at once when a tool hangs, and the hung tool is killed at its timeout", async () => {
  await using dir = await tempDir();
  const bin = await fakeTools(dir.path, { mount: HEALTHY.mount, lctl: "exec /bin/sleep 3607" });
  await using driver = await startDriver({
    dir: dir.path,
    args: ["--path-env", bin, "--probe-timeout-ms", "500"],
  });
  const started = Date.now();
  const probe = await driver.client.call(Identity.method.probe, {}, { timeoutMs: 10_000 });
  assert.equal(probe.ready, true);
  assert.ok(Date.now() - started < 4000, `Probe took ${Date.now() - started} ms`);
  await eventually(() => assert.match(driver.logs(), /Lustre client not ready: .*did not finish/));
  // The log line comes when the timeout fires; the kill and the reaping follow it.
  await eventually(async () => {
    const sleeping = await new Deno.Command("pgrep", { args: ["-f", "sleep 3607"] }).output();
    assert.equal(
      new TextDecoder().decode(sleeping.stdout).trim(),
      "",
      "the hung tool was not killed",
    );
  });
});

Deno.test("the server never logs secrets or service-account tokens, even at trace", async () => {
  await using dir = await tempDir();
  const bin = await fakeTools(dir.path, { mount: "exit 5", lctl: HEALTHY.lctl });
  await using driver = await startDriver({
    dir: dir.path,
    args: ["--path-env", bin, "--log-level", "trace", "--kubelet-dir", dir.path],
  });
  await assert.rejects(
    driver.client.call(Node.method.nodeStageVolume, {
      volumeId: "secret-test",
      stagingTargetPath: `${dir.path}/staging`,
      volumeCapability: {
        accessType: { case: "mount", value: {} },
        accessMode: { mode: 5 },
      },
      secrets: { password: "s3cr3t-password-value" },
      volumeContext: {
        source: "10.0.0.1@tcp:/fs1",
        "csi.storage.k8s.io/serviceAccount.tokens": '{"aud":{"token":"tok-abc-123"}}',
      },
    }),
  );
  const logs = driver.logs();
  assert.match(logs, /NodeStageVolume/);
  assert.match(logs, /\[REDACTED\]/);
  assert.doesNotMatch(logs, /s3cr3t-password-value/);
  assert.doesNotMatch(logs, /tok-abc-123/);
});

Deno.test("two concurrent calls on one staging path: the second is ABORTED", async () => {
  await using dir = await tempDir();
  // Answers the client check (-V), hangs on the mount itself.
  const bin = await fakeTools(dir.path, {
    mount: `if [ "$1" = -V ]; then echo "mount.lustre 2.15.6"; exit 0; fi; exec /bin/sleep 30`,
    lctl: HEALTHY.lctl,
  });
  await using driver = await startDriver({
    dir: dir.path,
    args: ["--path-env", bin, "--mount-timeout-ms", "3000", "--kubelet-dir", dir.path],
  });
  const request = {
    volumeId: "lock-test",
    stagingTargetPath: `${dir.path}/staging`,
    volumeCapability: {
      accessType: { case: "mount" as const, value: {} },
      accessMode: { mode: 5 },
    },
    volumeContext: { source: "10.0.0.1@tcp:/fs1" },
  };
  const first = driver.client.call(Node.method.nodeStageVolume, request);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const second = await driver.client.call(Node.method.nodeStageVolume, request).catch((e) => e);
  assert.ok(second instanceof CallError);
  assert.equal(second.code, Code.ABORTED);
  assert.match(
    second.details,
    /^Operation pending for volume "lock-test": another call is working on "\/tmp\//,
  );
  const firstError = await first.catch((e) => e);
  assert.ok(firstError instanceof CallError);
  assert.equal(firstError.code, Code.DEADLINE_EXCEEDED);
});

Deno.test("SIGTERM removes the socket and exits 0 within 5 s", async () => {
  await using dir = await tempDir();
  const driver = await startDriver({ dir: dir.path });
  const started = Date.now();
  const status = await driver.stop("SIGTERM");
  assert.equal(status.code, 0);
  assert.ok(Date.now() - started < 5000);
  await assert.rejects(Deno.lstat(driver.socketPath), Deno.errors.NotFound);
});

Deno.test("a stale socket file is replaced at start; a regular file is refused", async () => {
  await using dir = await tempDir();
  const first = await startDriver({ dir: dir.path });
  await first.stop("SIGKILL");
  assert.ok((await Deno.lstat(first.socketPath)).isSocket, "SIGKILL leaves the socket behind");
  await using second = await startDriver({ dir: dir.path });
  const info = await second.client.call(Identity.method.getPluginInfo, {});
  assert.equal(info.name, DRIVER_NAME);
  assert.equal((await Deno.stat(second.socketPath)).mode! & 0o777, 0o660);
  await second.stop();
  await Deno.writeTextFile(`${dir.path}/csi.sock`, "precious");
  const third = await startDriver({ dir: dir.path, waitReady: false });
  const status = await third.status;
  await third.stop();
  assert.notEqual(status.code, 0);
  assert.equal(await Deno.readTextFile(`${dir.path}/csi.sock`), "precious");
});
