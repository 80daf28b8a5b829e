import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./config.ts";

const noFile = () => {
  throw new Deno.errors.NotFound("no file");
};

Deno.test("parseConfig() takes flags over environment over file over defaults", () => {
  const file =
    "logLevel: debug\nkubeletDir: /file/kubelet\nmountTimeoutMs: 5000\ndefaultMountOptions: [noflock]\n";
  const config = parseConfig("node", ["--log-level", "error"], {
    env: {
      CSI_ENDPOINT: "unix:///env/csi.sock",
      KUBE_NODE_NAME: "n1",
      KLUSTRE_SETTINGS: "/s.yaml",
      KLUSTRE_LOG_LEVEL: "warning",
    },
    readTextFile: () => file,
  });
  assert.equal(config.logLevel, "error");
  assert.equal(config.socketPath, "/env/csi.sock");
  assert.equal(config.nodeId, "n1");
  assert.equal(config.kubeletDir, "/file/kubelet");
  assert.equal(config.mountTimeoutMs, 5000);
  assert.deepEqual(config.defaultMountOptions, ["noflock"]);
  assert.equal(config.stateDir, "/var/lib/klustre-csi");
  assert.ok(Object.isFrozen(config));
});

Deno.test("parseConfig() requires a node id only for node mode", () => {
  assert.throws(() => parseConfig("node", [], { env: {}, readTextFile: noFile }), /"nodeId"/);
  assert.equal(parseConfig("controller", [], { env: {}, readTextFile: noFile }).nodeId, "");
});

Deno.test("parseConfig() names an unreadable settings file", () => {
  assert.throws(
    () =>
      parseConfig("controller", ["--settings", "/nope.yaml"], { env: {}, readTextFile: noFile }),
    (error) => error instanceof ConfigError && /"\/nope\.yaml"/.test(error.message),
  );
});

Deno.test("parseConfig() reads controllerService as true or false, default false", () => {
  const env = { KUBE_NODE_NAME: "n1" };
  const parse = (args: string[], file = "") =>
    parseConfig("node", file ? ["--settings", "/s.yaml", ...args] : args, {
      env,
      readTextFile: () => file,
    }).controllerService;
  assert.equal(parse([]), false);
  assert.equal(parse(["--controller-service", "true"]), true);
  assert.equal(parse([], "controllerService: true\n"), true);
  assert.equal(parse([], 'controllerService: "false"\n'), false);
  assert.equal(
    parseConfig("node", [], {
      env: { ...env, KLUSTRE_CONTROLLER_SERVICE: "true" },
      readTextFile: noFile,
    })
      .controllerService,
    true,
  );
  assert.throws(() => parse(["--controller-service", "yes"]), /"controllerService".*"yes"/);
  assert.throws(() => parse([], "controllerService: 1\n"), /"controllerService".*"1"/);
});

Deno.test("parseConfig() reads the host's mount table from /proc/1 unless told otherwise", () => {
  const sources = { env: {}, readTextFile: noFile };
  assert.equal(parseConfig("controller", [], sources).hostMountInfo, "/proc/1/mountinfo");
  assert.equal(parseConfig("controller", ["--host-mountinfo", ""], sources).hostMountInfo, "");
  assert.equal(
    parseConfig("controller", ["--host-mountinfo", "/host/proc/1/mountinfo"], sources)
      .hostMountInfo,
    "/host/proc/1/mountinfo",
  );
  assert.throws(
    () => parseConfig("controller", ["--host-mountinfo", "proc/1/mountinfo"], sources),
    /"hostMountInfo" \(flag --host-mountinfo\): "proc\/1\/mountinfo" is not an absolute path/,
  );
});

Deno.test("parseConfig() reads allowSuidDevVolumes as true or false, default false", () => {
  const parse = (args: string[], file = "") =>
    parseConfig("controller", args, {
      env: file ? { KLUSTRE_SETTINGS: "/s.yaml" } : {},
      readTextFile: () => file,
    }).allowSuidDevVolumes;
  assert.equal(parse([]), false);
  assert.equal(parse(["--allow-suid-dev-volumes", "true"]), true);
  assert.equal(parse([], "allowSuidDevVolumes: true\n"), true, "a YAML boolean");
  assert.throws(
    () => parse(["--allow-suid-dev-volumes", "yes"]),
    (error) => error instanceof ConfigError && /"allowSuidDevVolumes".*"yes"/.test(error.message),
  );
});

Deno.test("parseConfig() refuses a mountTimeoutMs that reaches kubelet's 2-minute deadline", () => {
  const parse = (value: string) =>
    parseConfig("node", ["--mount-timeout-ms", value], {
      env: { KUBE_NODE_NAME: "n1" },
      readTextFile: noFile,
    });
  assert.equal(parse("119999").mountTimeoutMs, 119999);
  for (const value of ["120000", "200000"]) {
    assert.throws(
      () => parse(value),
      (error) =>
        error instanceof ConfigError &&
        error.message.includes(`"mountTimeoutMs" (flag --mount-timeout-ms): "${value}"`) &&
        error.message.includes("kubelet's 120000 ms (2 minute) deadline"),
    );
  }
});
