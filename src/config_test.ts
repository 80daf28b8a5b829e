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
