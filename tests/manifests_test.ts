/**
 * Install artefacts: the kustomize base (manifests/), its examples, the Helm
 * chart (charts/klustre-csi), the Containerfile and scripts/build-image.
 *
 * Every object is validated against the Kubernetes API schemas
 * (kubernetes-models), unknown fields included, and the invariants that tie
 * the files to the driver are checked: one driver name, one socket, one
 * kubelet dir, the image tag, the settings keys.
 *
 * The base is rendered by tests/support/manifests.ts (it is plain resources),
 * which holds the helpers shared with tests/manifests_controller_test.ts. When
 * kubectl and helm are installed (scripts/fetch-kube-tools, or on PATH) the
 * test also renders with `kubectl kustomize` and `helm template` and compares
 * object for object; without them those tests are skipped. No test uses the
 * network.
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { DRIVER_NAME, DRIVER_VERSION } from "../src/version.ts";
import { SETTINGS } from "../src/settings.ts";
import { parseConfig } from "../src/config.ts";
import { findWorkerModules, parseNodeTask, sourceWorkerModules } from "../scripts/bundle.ts";
import { schemaProblems } from "./support/k8s_schema.ts";
import {
  assertSameObjects,
  assertValidObjects,
  BASE_DIR,
  byKey,
  CHART_DIR,
  CLIENT_LABEL,
  EXAMPLES_DIR,
  existsFile,
  find,
  HELM,
  helmTemplate,
  IMAGE_REPOSITORY,
  KUBECTL,
  type Obj,
  parseDocs,
  renderKustomization,
  ROOT,
  runOk,
} from "./support/manifests.ts";
import { argValue, container, isUnder, mountOf, podSpec } from "./support/workloads.ts";

if (!KUBECTL || !HELM) {
  console.warn(
    "manifests_test: kubectl or helm not found; run scripts/fetch-kube-tools to compare with real renders",
  );
}

// --------------------------------------------------------------- invariants

function hostPathOf(daemonSet: Obj, volume: string): string {
  const found = podSpec(daemonSet).volumes.find((v: Obj) => v.name === volume);
  assert.ok(found?.hostPath, `hostPath volume ${volume}`);
  return found.hostPath.path;
}

function envValue(c: Obj, name: string): Obj {
  const found = (c.env as Obj[]).find((e) => e.name === name);
  assert.ok(found, `${c.name}: env ${name}`);
  return found;
}

/** The driver's settings file as the config loader resolves it in the pod. */
function podConfig(objects: Obj[]) {
  const daemonSet = find(objects, "DaemonSet", "klustre-csi-node");
  const driver = container(daemonSet, "klustre-csi");
  const settingsArg = driver.args.indexOf("--settings");
  assert.ok(settingsArg >= 0, "driver runs with --settings");
  const settingsPath: string = driver.args[settingsArg + 1];
  const settingsMount = (driver.volumeMounts as Obj[]).find((m) =>
    isUnder(settingsPath, m.mountPath)
  );
  assert.ok(settingsMount, `a volume holds ${settingsPath}`);
  const volume = podSpec(daemonSet).volumes.find((v: Obj) => v.name === settingsMount.name);
  const configMap = find(objects, "ConfigMap", volume.configMap.name);
  const text: string = configMap.data[settingsPath.slice(settingsMount.mountPath.length + 1)];
  assert.ok(text, `${configMap.metadata.name} has ${settingsPath}`);
  const env = { CSI_ENDPOINT: envValue(driver, "CSI_ENDPOINT").value, KUBE_NODE_NAME: "node-1" };
  const config = parseConfig("node", ["--settings", settingsPath], {
    env,
    readTextFile: (path) => {
      assert.equal(path, settingsPath);
      return text;
    },
  });
  return { config, text };
}

/** The rules that make the node plugin work, for any render and kubelet dir. */
function assertNodeInvariants(objects: Obj[], kubeletDir: string) {
  const daemonSet = find(objects, "DaemonSet", "klustre-csi-node");
  const spec = podSpec(daemonSet);
  const driver = container(daemonSet, "klustre-csi");
  const registrar = container(daemonSet, "node-driver-registrar");
  const liveness = container(daemonSet, "liveness-probe");
  const { config } = podConfig(objects);

  // One driver name.
  assert.equal(find(objects, "CSIDriver").metadata.name, DRIVER_NAME);
  for (const sc of objects.filter((o) => o.kind === "StorageClass")) {
    assert.equal(sc.provisioner, DRIVER_NAME);
  }

  // One socket: the driver listens where registrar and livenessprobe connect,
  // and the registrar tells kubelet the host path of that same file.
  const socketPath = config.socketPath;
  assert.equal(argValue(registrar, "csi-address"), socketPath);
  assert.equal(argValue(liveness, "csi-address"), socketPath);
  const socketDir = socketPath.slice(0, socketPath.lastIndexOf("/"));
  const pluginDir = `${kubeletDir}/plugins/${DRIVER_NAME}`;
  for (const c of [driver, registrar, liveness]) {
    assert.equal(mountOf(c, "plugin-dir").mountPath, socketDir, `${c.name} mounts the socket dir`);
  }
  assert.equal(hostPathOf(daemonSet, "plugin-dir"), pluginDir);
  assert.equal(
    argValue(registrar, "kubelet-registration-path"),
    `${pluginDir}/${socketPath.slice(socketDir.length + 1)}`,
  );
  assert.equal(hostPathOf(daemonSet, "registration-dir"), `${kubeletDir}/plugins_registry`);
  assert.equal(mountOf(registrar, "registration-dir").mountPath, "/registration");

  // The kubelet dir is the same path inside and out, shared both ways.
  assert.equal(config.kubeletDir, kubeletDir);
  assert.equal(hostPathOf(daemonSet, "kubelet-dir"), kubeletDir);
  const kubeletMount = mountOf(driver, "kubelet-dir");
  assert.equal(kubeletMount.mountPath, kubeletDir);
  assert.equal(kubeletMount.mountPropagation, "Bidirectional");
  assert.equal(driver.securityContext.privileged, true, "Bidirectional needs privileged");

  // The state dir: same path inside and out, never propagated to the host.
  const stateMount = mountOf(driver, "state-dir");
  assert.equal(stateMount.mountPath, config.stateDir);
  assert.equal(hostPathOf(daemonSet, "state-dir"), config.stateDir);
  assert.notEqual(stateMount.mountPropagation, "Bidirectional");
  assert.ok(!isUnder(config.stateDir, kubeletDir), "state dir outside the kubelet dir");
  assert.ok(!isUnder(kubeletDir, config.stateDir), "kubelet dir outside the state dir");
  for (const c of spec.containers as Obj[]) {
    for (const m of (c.volumeMounts ?? []) as Obj[]) {
      if (m.mountPropagation === "Bidirectional") {
        assert.equal(m.name, "kubelet-dir", `${c.name}: only the kubelet dir is Bidirectional`);
      }
    }
  }

  // Liveness: HTTP from the livenessprobe sidecar, never an exec (no shell in the image).
  for (const c of spec.containers as Obj[]) {
    for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
      assert.equal(c[probe]?.exec, undefined, `${c.name}: no exec ${probe}`);
    }
  }
  const probePort = driver.livenessProbe.httpGet.port;
  const port = (driver.ports as Obj[]).find((p) =>
    p.name === probePort || p.containerPort === probePort
  );
  assert.ok(port, "the driver's liveness probe port is declared");
  assert.equal(driver.livenessProbe.httpGet.path, "/healthz");
  assert.equal(argValue(liveness, "health-port"), String(port.containerPort));

  // Metrics port matches the settings.
  const metrics = (driver.ports as Obj[]).find((p) => p.name === "metrics");
  assert.equal(config.metricsAddress, `0.0.0.0:${metrics?.containerPort}`);

  // Host tools: every /host dir named in PATH or LD_LIBRARY_PATH is a read-only host mount.
  const hostMounts = (driver.volumeMounts as Obj[]).filter((m) => m.mountPath.startsWith("/host/"));
  assert.ok(hostMounts.length > 0);
  for (const m of hostMounts) {
    assert.equal(m.readOnly, true, `${m.mountPath} is read-only`);
    assert.equal(hostPathOf(daemonSet, m.name), m.mountPath.slice("/host".length));
  }
  for (const dir of [...config.pathEnv.split(":"), ...config.ldLibraryPath.split(":")]) {
    if (dir.startsWith("/host/")) {
      assert.ok(hostMounts.some((m) => isUnder(dir, m.mountPath)), `${dir} is mounted`);
    }
  }
  // Host tools run with the host's own loader (hostLoader auto, which uses only the /host dirs);
  // for tools run with the image's loader instead, the image's libc must win over the host's.
  assert.equal(config.hostLoader, "auto");
  const libDirs = config.ldLibraryPath.split(":");
  const firstHostLib = libDirs.findIndex((d) => d.startsWith("/host/"));
  for (const dir of ["/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu"]) {
    const index = libDirs.indexOf(dir);
    assert.ok(index >= 0 && index < firstHostLib, `${dir} comes before the host's libraries`);
  }
  for (const dir of ["/host/sbin", "/host/usr/sbin"]) {
    assert.ok(config.pathEnv.split(":").includes(dir), `PATH has ${dir}`);
  }

  // Placement and privileges.
  assert.equal(spec.nodeSelector?.[CLIENT_LABEL], "true", "runs only on Lustre client nodes");
  assert.equal(spec.hostNetwork, true);
  assert.equal(spec.hostPID, true);
  assert.equal(config.hostMountNamespace, "/proc/1/ns/mnt", "Lustre mounts survive restarts");
  assert.equal(spec.dnsPolicy, "Default", "the node's resolver, not cluster DNS");
  assert.equal(spec.priorityClassName, "system-node-critical");
  assert.equal(daemonSet.spec.updateStrategy.type, "RollingUpdate");
  assert.ok(spec.tolerations.length > 0);
  assert.equal(envValue(driver, "KUBE_NODE_NAME").valueFrom.fieldRef.fieldPath, "spec.nodeName");
  for (const c of spec.containers as Obj[]) {
    assert.ok(c.resources?.requests && c.resources?.limits, `${c.name}: requests and limits`);
  }
  assert.equal(spec.serviceAccountName, find(objects, "ServiceAccount").metadata.name);
  assert.equal(spec.automountServiceAccountToken, false);
}

// -------------------------------------------------------------------- tests

Deno.test("kustomize base renders the node plugin's objects in klustre-system", () => {
  const objects = renderKustomization(BASE_DIR);
  assert.deepEqual([...byKey(objects).keys()].sort(), [
    "CSIDriver//lustre.csi.klustrefs.io",
    "ConfigMap/klustre-system/klustre-csi-settings",
    "DaemonSet/klustre-system/klustre-csi-node",
    "Namespace//klustre-system",
    "ServiceAccount/klustre-system/klustre-csi-node",
    "StorageClass//klustre-csi-static",
  ]);
  const namespace = find(objects, "Namespace");
  for (const mode of ["enforce", "audit", "warn"]) {
    assert.equal(namespace.metadata.labels[`pod-security.kubernetes.io/${mode}`], "privileged");
  }
});

Deno.test("kustomize base and examples validate against the Kubernetes API schemas", () => {
  assertValidObjects([...renderKustomization(BASE_DIR), ...renderKustomization(EXAMPLES_DIR)]);
});

Deno.test("schemaProblems() reports unknown fields and bad enum values", () => {
  const daemonSet = structuredClone(find(renderKustomization(BASE_DIR), "DaemonSet"));
  const driver = container(daemonSet, "klustre-csi");
  driver.volumeMounts[0].mountPropogation = "None";
  driver.volumeMounts[1].mountPropagation = "Sideways";
  const problems = schemaProblems(daemonSet);
  assert.equal(problems.length, 2, problems.join("\n"));
  assert.match(problems.join("\n"), /volumeMounts\/0\/mountPropogation is not a field/);
  assert.match(problems.join("\n"), /volumeMounts\/1\/mountPropagation fails enum/);
});

Deno.test("kustomize base keeps one driver name, socket and kubelet dir", () => {
  assertNodeInvariants(renderKustomization(BASE_DIR), "/var/lib/kubelet");
});

Deno.test("kustomize base settings are known to the config loader", () => {
  const objects = renderKustomization(BASE_DIR);
  const { config, text } = podConfig(objects);
  const known = new Set<string>(SETTINGS.map((s) => s.key));
  for (const key of Object.keys(parseYaml(text))) {
    assert.ok(known.has(key), `unknown setting ${key}`);
  }
  assert.equal(config.logLevel, "info");
  assert.equal(config.stateDir, "/var/lib/klustre-csi");
  assert.deepEqual(config.defaultMountOptions, ["flock", "user_xattr"]);
  assert.equal(config.endpoint, "unix:///csi/csi.sock");
  assert.equal(config.nodeId, "node-1");
  assert.equal(config.metricsAddress, "0.0.0.0:9810");
});

Deno.test("kustomize base runs the image tagged with the driver version", () => {
  const daemonSet = find(renderKustomization(BASE_DIR), "DaemonSet");
  const driver = container(daemonSet, "klustre-csi");
  assert.equal(driver.image, `${IMAGE_REPOSITORY}:${DRIVER_VERSION}`);
  for (const c of podSpec(daemonSet).containers as Obj[]) {
    assert.match(c.image, /^[^:]+(:\d+)?\/[^:]+:v?\d+\.\d+\.\d+$/, `${c.name}: pinned image`);
  }
  assert.match(
    container(daemonSet, "node-driver-registrar").image,
    /^registry\.k8s\.io\/sig-storage\/csi-node-driver-registrar:/,
  );
  assert.match(
    container(daemonSet, "liveness-probe").image,
    /^registry\.k8s\.io\/sig-storage\/livenessprobe:/,
  );
});

Deno.test("kustomize base declares the CSIDriver and StorageClass for shared static volumes", () => {
  const objects = renderKustomization(BASE_DIR);
  assert.deepEqual(find(objects, "CSIDriver").spec, {
    attachRequired: false,
    podInfoOnMount: true,
    fsGroupPolicy: "None",
    volumeLifecycleModes: ["Persistent"],
    requiresRepublish: false,
    storageCapacity: false,
    seLinuxMount: true,
  });
  const sc = find(objects, "StorageClass", "klustre-csi-static");
  assert.equal(sc.reclaimPolicy, "Retain");
  assert.equal(sc.volumeBindingMode, "WaitForFirstConsumer");
  assert.deepEqual(sc.mountOptions, ["flock", "user_xattr"]);
  assert.deepEqual(sc.allowedTopologies, [
    { matchLabelExpressions: [{ key: CLIENT_LABEL, values: ["true"] }] },
  ]);
});

Deno.test("examples hold a Klustre-format PV, its PVC and two pods sharing it", () => {
  const objects = renderKustomization(EXAMPLES_DIR);
  const pv = find(objects, "PersistentVolume", "lustre-static-pv");
  assert.deepEqual(pv.spec.csi, {
    driver: DRIVER_NAME,
    volumeHandle: "lustre-static-pv",
    volumeAttributes: { source: "10.0.0.1@tcp0:/lustre-fs", mountOptions: "flock,user_xattr" },
  });
  assert.equal(pv.spec.storageClassName, "klustre-csi-static");
  assert.equal(pv.spec.persistentVolumeReclaimPolicy, "Retain");
  assert.deepEqual(pv.spec.accessModes, ["ReadWriteMany"]);
  const pvc = find(objects, "PersistentVolumeClaim");
  assert.equal(pvc.spec.volumeName, pv.metadata.name);
  assert.equal(pvc.spec.storageClassName, pv.spec.storageClassName);
  assert.equal(pvc.spec.resources.requests.storage, pv.spec.capacity.storage);
  const deployment = find(objects, "Deployment");
  assert.equal(deployment.spec.replicas, 2);
  assert.equal(deployment.metadata.namespace, pvc.metadata.namespace);
  const volumes = deployment.spec.template.spec.volumes as Obj[];
  assert.equal(volumes[0].persistentVolumeClaim.claimName, pvc.metadata.name);
  assert.equal(deployment.spec.template.spec.nodeSelector[CLIENT_LABEL], "true");
  const subdirPv = find(objects, "PersistentVolume", "lustre-alpha-pv");
  assert.equal(subdirPv.spec.csi.driver, DRIVER_NAME);
  assert.equal(subdirPv.spec.csi.volumeAttributes.subdir, "projects/alpha");
  const handles = objects.filter((o) => o.kind === "PersistentVolume").map((o) =>
    o.spec.csi.volumeHandle
  );
  assert.equal(new Set(handles).size, handles.length, "volume handles are unique");
});

Deno.test({
  name: "kubectl kustomize renders the same objects as this test's renderer",
  ignore: !KUBECTL,
  fn() {
    for (const dir of [BASE_DIR, EXAMPLES_DIR]) {
      const rendered = parseDocs(runOk(KUBECTL!, ["kustomize", dir]), `kubectl kustomize ${dir}`);
      assertSameObjects(rendered, renderKustomization(dir));
    }
  },
});

Deno.test("Helm chart version and appVersion equal the driver version", () => {
  const chart = parseYaml(Deno.readTextFileSync(`${CHART_DIR}/Chart.yaml`));
  assert.equal(chart.name, "klustre-csi");
  assert.equal(chart.version, DRIVER_VERSION);
  assert.equal(chart.appVersion, DRIVER_VERSION);
});

Deno.test({
  name: "helm template with default values equals the kustomize base without the Namespace",
  ignore: !HELM,
  fn() {
    const base = renderKustomization(BASE_DIR);
    const rendered = helmTemplate();
    assertSameObjects(rendered, base.filter((o) => o.kind !== "Namespace"));
    assertSameObjects(helmTemplate("namespace.create=true"), base);
  },
});

Deno.test({
  name: "helm template keeps the invariants and valid objects for other values",
  ignore: !HELM,
  fn() {
    const custom = helmTemplate(
      "kubeletDir=/var/lib/k0s/kubelet/",
      "stateDir=/srv/klustre-csi",
      "ports.metrics=19810",
      "ports.healthz=19811",
      "image.tag=1.2.3",
      "settings.logLevel=debug",
      "storageClass.create=false",
    );
    assertValidObjects(custom);
    assertNodeInvariants(custom, "/var/lib/k0s/kubelet");
    assert.equal(podConfig(custom).config.stateDir, "/srv/klustre-csi");
    assert.equal(podConfig(custom).config.logLevel, "debug");
    const driver = container(find(custom, "DaemonSet"), "klustre-csi");
    assert.equal(driver.image, `${IMAGE_REPOSITORY}:1.2.3`);
    assert.equal(custom.filter((o) => o.kind === "StorageClass").length, 0);
    runOk(HELM!, ["lint", "--strict", CHART_DIR]);
    const conflict = new Deno.Command(HELM!, {
      args: ["template", "k", CHART_DIR, "--set", "settings.kubeletDir=/elsewhere"],
      stderr: "piped",
      stdout: "null",
    }).outputSync();
    assert.notEqual(conflict.code, 0, "settings.kubeletDir is refused");
    assert.match(
      new TextDecoder().decode(conflict.stderr),
      /settings.kubeletDir is set from the value kubeletDir/,
    );
  },
});

Deno.test("Containerfile compiles the binary with scripts/compile.ts onto distroless", () => {
  const text = Deno.readTextFileSync(`${ROOT}container/Containerfile`);
  const froms = [...text.matchAll(/^FROM\s+(.+)$/gm)].map((m) => m[1]);
  assert.equal(froms.length, 2);
  assert.match(froms[0], /^--platform=\$BUILDPLATFORM denoland\/deno:\$\{DENO_VERSION\} AS build$/);
  assert.equal(froms[1], "${BASE_IMAGE}");
  assert.match(text, /^ARG DENO_VERSION=2\.\d+\.\d+$/m);
  assert.match(text, /^ARG BASE_IMAGE=gcr\.io\/distroless\/cc-debian12$/m);
  assert.match(text, /amd64\) target=x86_64-unknown-linux-gnu/);
  assert.match(text, /arm64\) target=aarch64-unknown-linux-gnu/);
  assert.match(
    text,
    /deno run --allow-read --allow-run scripts\/compile\.ts --target "\$target" --output \/out\/rootfs\/klustre-csi;/,
  );
  assert.match(text, /^COPY scripts\/compile\.ts scripts\/bundle\.ts scripts\/$/m);
  assert.match(text, /^COPY --from=build \/out\/rootfs\/ \/$/m);
  assert.match(text, /^ENTRYPOINT \["\/klustre-csi"\]$/m);
  assert.doesNotMatch(text, /^(SHELL|HEALTHCHECK)/m);
  const ignore = Deno.readTextFileSync(`${ROOT}container/Containerfile.dockerignore`);
  for (
    const path of ["deno.json", "deno.lock", "src/", "scripts/compile.ts", "scripts/bundle.ts"]
  ) {
    assert.ok(ignore.split("\n").includes(`!${path}`), `the build context has ${path}`);
  }
});

Deno.test("scripts/compile.ts compiles the bundle with the node task's flags and embeds the workers' bundles", () => {
  const printed = runOk(Deno.execPath(), [
    "run",
    "--allow-read",
    "--allow-run",
    `${ROOT}scripts/compile.ts`,
    "--print",
    "--target",
    "aarch64-unknown-linux-gnu",
    "--output",
    "/out/klustre-csi",
  ]).trim().split("\n");
  const task = parseNodeTask(JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)).tasks.node);
  assert.deepEqual(printed.slice(0, 7), [
    "compile",
    "--no-config",
    "--no-check",
    "--target",
    "aarch64-unknown-linux-gnu",
    "--output",
    "/out/klustre-csi",
  ]);
  assert.equal(task.entry, "src/main.ts");
  assert.deepEqual(printed.slice(-task.flags.length - 1), [...task.flags, "dist/bundle/main.js"]);
  const includes = printed.flatMap((a, i) => printed[i - 1] === "--include" ? [a] : []);
  const workers = sourceWorkerModules(task.entry);
  assert.deepEqual(
    includes,
    workers.map((w) => `dist/bundle/${w.slice(w.lastIndexOf("/") + 1)}`),
    "one bundle per Worker module, named as the module",
  );
  for (const path of workers) assert.ok(Deno.statSync(`${ROOT}${path}`).isFile, path);
  if (existsFile(`${ROOT}src/mount/_syscall_worker.ts`)) {
    assert.ok(includes.includes("dist/bundle/_syscall_worker.ts"), includes.join(" "));
  }
});

Deno.test("findWorkerModules() resolves literal worker URLs and refuses others", () => {
  const sources = new Map([
    ["src/mount/a.ts", 'new Worker(new URL("./_w.ts", import.meta.url), { type: "module" });'],
    ["src/b.ts", "new Worker(\n  new URL('./x.ts', import.meta.url),\n);"],
    ["src/c.ts", "const none = 1;"],
  ]);
  assert.deepEqual(findWorkerModules(sources), ["src/mount/_w.ts", "src/x.ts"]);
  assert.throws(
    () =>
      findWorkerModules(
        new Map([["src/e.ts", 'new Worker(new URL("../lib/x.ts", import.meta.url))']]),
      ),
    /must be a file beside the module that starts it/,
  );
  assert.throws(
    () => findWorkerModules(new Map([["src/d.ts", "new Worker(url);"]])),
    SyntaxError,
  );
  assert.throws(() => parseNodeTask("deno task x"), SyntaxError);
  assert.deepEqual(parseNodeTask("deno run -A --unstable-ffi src/main.ts node"), {
    flags: ["-A", "--unstable-ffi"],
    entry: "src/main.ts",
  });
});

Deno.test("build-image --dry-run builds both architectures tagged with the driver version", () => {
  const script = `${ROOT}scripts/build-image`;
  const docker = runOk(script, ["--dry-run", "--engine", "docker"]);
  assert.match(docker, /^\+ docker buildx build .*$/m);
  const build = docker.split("\n").find((l) => l.startsWith("+ docker buildx build"))!;
  assert.ok(build.includes(" --platform linux/amd64,linux/arm64 "), build);
  assert.ok(build.includes(` --tag ${IMAGE_REPOSITORY}:${DRIVER_VERSION} `), build);
  assert.ok(build.includes(" --file container/Containerfile "), build);
  assert.ok(!build.includes("--push"), build);

  const podman = runOk(script, [
    "--dry-run",
    "--engine=podman",
    "--push",
    "--image",
    "registry.example:5000/lustre/klustre-csi",
  ]);
  const tag = `registry.example:5000/lustre/klustre-csi:${DRIVER_VERSION}`;
  assert.match(
    podman,
    new RegExp(`^\\+ podman build --platform linux/amd64,linux/arm64 .*--manifest ${tag} `, "m"),
  );
  assert.match(podman, new RegExp(`^\\+ podman manifest push --all ${tag} docker://${tag}$`, "m"));

  const bad = new Deno.Command(script, { args: ["--image", "x:1", "--dry-run"], stderr: "piped" })
    .outputSync();
  assert.equal(bad.code, 2, "a tag in --image is refused");
});
