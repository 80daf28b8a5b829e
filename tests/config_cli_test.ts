/** Bad settings stop the start with a message naming the setting and value. */
import assert from "node:assert/strict";
import { runCli, tempDir } from "./support/driver.ts";

const run = runCli;

const BAD: [string, string[], Record<string, string>, RegExp][] = [
  ["endpoint", ["--endpoint", "tcp://0.0.0.0:9000"], {}, /"endpoint".*"tcp:\/\/0\.0\.0\.0:9000"/],
  ["node id missing", ["--endpoint", "unix:///tmp/x.sock"], { KUBE_NODE_NAME: "" }, /"nodeId"/],
  ["log level", ["--log-level", "loud"], {}, /"logLevel".*"loud"/],
  ["timeout", ["--mount-timeout-ms", "soon"], {}, /"mountTimeoutMs".*"soon"/],
  [
    "mount timeout past kubelet's deadline",
    [],
    { KLUSTRE_MOUNT_TIMEOUT_MS: "200000" },
    /"mountTimeoutMs" \(environment KLUSTRE_MOUNT_TIMEOUT_MS\): "200000" is not below kubelet's 120000 ms/,
  ],
  ["timeout zero", ["--unmount-timeout-ms", "0"], {}, /"unmountTimeoutMs".*"0"/],
  ["relative dir", ["--kubelet-dir", "var/lib/kubelet"], {}, /"kubeletDir".*"var\/lib\/kubelet"/],
  [
    "bad option",
    ["--default-mount-options", "flock,exclusive"],
    {},
    /"defaultMountOptions".*"exclusive"/,
  ],
  ["dangerous option", ["--default-mount-options", "force"], {}, /"force" is refused/],
  ["metrics", ["--metrics-address", "everywhere"], {}, /"metricsAddress".*"everywhere"/],
  ["unknown flag", ["--colour", "red"], {}, /colour/],
  [
    "env value",
    [],
    { KLUSTRE_LOG_LEVEL: "verbose" },
    /"logLevel" \(environment KLUSTRE_LOG_LEVEL\).*"verbose"/,
  ],
];

for (const [name, args, env, pattern] of BAD) {
  Deno.test(`klustre-csi node refuses a bad setting: ${name}`, async () => {
    const nodeId = name === "node id missing" ? [] : ["--node-id", "n1"];
    const result = await run(["node", ...nodeId, ...args], env);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, pattern);
  });
}

Deno.test("klustre-csi node refuses an unknown key and a bad value in the settings file", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/settings.yaml`;
  await Deno.writeTextFile(file, "logLevel: info\nmountTimoutMs: 5\n");
  let result = await run(["node", "--node-id", "n1", "--settings", file]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /Unknown setting "mountTimoutMs"/);
  await Deno.writeTextFile(file, "commandTimeoutMs: -4\n");
  result = await run(["node", "--node-id", "n1"], { KLUSTRE_SETTINGS: file });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /"commandTimeoutMs".*"-4"/);
});

Deno.test("klustre-csi prints help for each command and refuses an unknown one", async () => {
  for (const command of ["node", "controller", "version"]) {
    const result = await run([command, "--help"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, new RegExp(`klustre-csi ${command}`));
  }
  const node = await run(["node", "--help"]);
  assert.match(node.stdout, /--mount-timeout-ms/);
  assert.match(node.stdout, /CSI_ENDPOINT/);
  const unknown = await run(["dance"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown command "dance"/);
});

Deno.test("every klustre-csi subcommand prints its help with -h and --help and exits 0", async () => {
  const commands = ["node", "controller", "doctor", "pv", "version"];
  const results = await Promise.all(
    commands.flatMap((command) => ["-h", "--help"].map((flag) => run([command, flag]))),
  );
  results.forEach((result, i) => {
    const command = commands[Math.floor(i / 2)];
    assert.equal(result.code, 0, `${command}: ${result.stderr}`);
    assert.match(result.stdout, new RegExp(`^Usage: klustre-csi ${command}`));
    assert.match(result.stdout, /-h, --help/);
  });
  const help = await run(["help", "pv"]);
  assert.match(help.stdout, /^Usage: klustre-csi pv/);
  const extra = await run(["version", "now"]);
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /unexpected argument "now"/);
});

Deno.test("klustre-csi controller --help lists only the settings the controller reads", async () => {
  const controller = (await run(["controller", "--help"])).stdout;
  const node = (await run(["node", "--help"])).stdout;
  for (const flag of ["--endpoint", "--state-dir", "--mount-timeout-ms", "--metrics-address"]) {
    assert.match(controller, new RegExp(`^  ${flag} `, "m"));
  }
  for (const flag of ["--node-id", "--host-mount-namespace", "--allow-suid-dev-volumes"]) {
    assert.doesNotMatch(controller, new RegExp(`^  ${flag} `, "m"));
    assert.match(node, new RegExp(`^  ${flag} `, "m"));
  }
  assert.match(controller, /Accepted and ignored here \(settings of the node plugin\): nodeId,/);
});

Deno.test("klustre-csi version prints name, version and CSI version", async () => {
  const result = await run(["version"]);
  assert.equal(result.code, 0);
  const parsed = JSON.parse(result.stdout);
  assert.equal(parsed.name, "lustre.csi.klustrefs.io");
  assert.equal(parsed.csi, "1.12.0");
});
