/**
 * The controller's install artefacts: the kustomize resource set in
 * manifests/controller, the chart's controller templates (controller.enabled)
 * and the dynamic-provisioning examples.
 *
 * Every object is validated against the Kubernetes API schemas
 * (kubernetes-models), unknown fields included, and the invariants that make
 * the controller work are checked: one socket shared by the driver and its
 * sidecars, the settings the driver resolves in the pod, leader election,
 * --extra-create-metadata, RBAC that covers what external-provisioner and
 * external-resizer do and nothing else, host ports apart from the node
 * plugin's. The example StorageClass goes through the controller's own
 * parameter parser.
 *
 * The helpers shared with tests/manifests_test.ts live in tests/support/manifests.ts
 * and tests/support/workloads.ts. kubectl and helm come from scripts/fetch-kube-tools
 * (or PATH); without them those comparisons are skipped. No test uses the network.
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { DRIVER_NAME, DRIVER_VERSION } from "../src/version.ts";
import { SETTINGS } from "../src/settings.ts";
import { parseConfig } from "../src/config.ts";
import {
  expandTemplate,
  PARAMETER_DEFAULTS,
  parseParameters,
} from "../src/controller/parameters.ts";
import { schemaProblems } from "./support/k8s_schema.ts";
import {
  assertSameObjects,
  assertValidObjects,
  BASE_DIR,
  byKey,
  CHART_DIR,
  CLIENT_LABEL,
  EXAMPLES_DIR,
  find,
  HELM,
  helmTemplate,
  IMAGE_REPOSITORY,
  keyOf,
  KUBECTL,
  NAMESPACE,
  type Obj,
  parseDocs,
  readDocs,
  renderKustomization,
  ROOT,
  runOk,
  runTool,
} from "./support/manifests.ts";
import {
  args,
  argValue,
  container,
  hostMounts,
  isUnder,
  mountOf,
  podSpec,
  volumeOf,
} from "./support/workloads.ts";

const CONTROLLER_DIR = `${ROOT}manifests/controller`;
const DEPLOYMENT = "klustre-csi-controller";
const SERVICE_ACCOUNT = "klustre-csi-controller";
const SIDECARS = ["csi-provisioner", "csi-resizer", "liveness-probe"];

// ---------------------------------------------------------------- rendering

/** The base and the controller, as installed together. */
function renderWithController(): Obj[] {
  return [...renderKustomization(BASE_DIR), ...renderKustomization(CONTROLLER_DIR)];
}

// --------------------------------------------------------------- pod helpers

/** Host ports a host-network pod opens: declared ports and sidecars' listen flags. */
function hostPorts(workload: Obj): Set<number> {
  const ports = new Set<number>();
  for (const c of podSpec(workload).containers as Obj[]) {
    for (const p of (c.ports ?? []) as Obj[]) ports.add(p.containerPort);
    for (const a of args(c)) {
      const match = /^--(?:health-port|http-endpoint|metrics-address)=.*?(\d+)$/.exec(a);
      if (match) ports.add(Number(match[1]));
    }
  }
  return ports;
}

/** The settings the controller resolves in its pod: file, env and flags as the pod gives them. */
function controllerConfig(objects: Obj[]) {
  const deployment = find(objects, "Deployment", DEPLOYMENT);
  const driver = container(deployment, "klustre-csi");
  const [mode, ...flags] = args(driver);
  assert.equal(mode, "controller");
  const settingsPath = flags[flags.indexOf("--settings") + 1];
  assert.ok(settingsPath, "the controller runs with --settings");
  const settingsMount = (driver.volumeMounts as Obj[]).find((m) =>
    isUnder(settingsPath, m.mountPath)
  );
  assert.ok(settingsMount, `a volume holds ${settingsPath}`);
  const configMap = find(
    objects,
    "ConfigMap",
    volumeOf(deployment, settingsMount.name).configMap.name,
  );
  const text: string = configMap.data[settingsPath.slice(settingsMount.mountPath.length + 1)];
  assert.ok(text, `${configMap.metadata.name} has ${settingsPath}`);
  const env: Record<string, string> = {};
  for (const e of (driver.env ?? []) as Obj[]) {
    assert.ok(typeof e.value === "string", `${e.name}: a plain value`);
    env[e.name] = e.value;
  }
  const config = parseConfig("controller", flags, {
    env,
    readTextFile: (path) => {
      assert.equal(path, settingsPath);
      return text;
    },
  });
  return { config, text };
}

// --------------------------------------------------------------------- RBAC

interface Permission {
  readonly group: string;
  readonly resource: string;
  readonly verbs: readonly string[];
  /** Granted in the leader-election namespace only. */
  readonly namespaced?: boolean;
}

const LEASES: Permission = {
  group: "coordination.k8s.io",
  resource: "leases",
  verbs: ["get", "list", "watch", "create", "update", "delete"],
  namespaced: true,
};
/** The Secret an encrypted StorageClass names (docs/encryption.md), in the driver's namespace. */
const PROVISIONER_SECRETS: Permission = {
  group: "",
  resource: "secrets",
  verbs: ["get"],
  namespaced: true,
};

const EVENTS: Permission = {
  group: "",
  resource: "events",
  verbs: ["list", "watch", "create", "update", "patch"],
};

const VOLUME_ATTRIBUTES_CLASSES: Permission = {
  group: "storage.k8s.io",
  resource: "volumeattributesclasses",
  verbs: ["get", "list", "watch"],
};

/** What each sidecar does with the API (their upstream RBAC, less unused features). */
const NEEDS: Record<string, readonly Permission[]> = {
  "csi-provisioner": [
    {
      group: "",
      resource: "persistentvolumes",
      verbs: ["get", "list", "watch", "create", "patch", "delete"],
    },
    { group: "", resource: "persistentvolumeclaims", verbs: ["get", "list", "watch", "update"] },
    { group: "storage.k8s.io", resource: "storageclasses", verbs: ["get", "list", "watch"] },
    EVENTS,
    { group: "storage.k8s.io", resource: "csinodes", verbs: ["get", "list", "watch"] },
    { group: "", resource: "nodes", verbs: ["get", "list", "watch"] },
    { group: "storage.k8s.io", resource: "volumeattachments", verbs: ["get", "list", "watch"] },
    VOLUME_ATTRIBUTES_CLASSES,
    LEASES,
    PROVISIONER_SECRETS,
  ],
  "csi-resizer": [
    { group: "", resource: "persistentvolumes", verbs: ["get", "list", "watch", "patch"] },
    { group: "", resource: "persistentvolumeclaims", verbs: ["get", "list", "watch"] },
    { group: "", resource: "persistentvolumeclaims/status", verbs: ["patch"] },
    EVENTS,
    VOLUME_ATTRIBUTES_CLASSES,
    LEASES,
  ],
};

/** "group/resource verb" strings a list of rules grants; wildcards are refused. */
function granted(rules: Obj[]): Set<string> {
  const out = new Set<string>();
  for (const rule of rules) {
    assert.equal(rule.resourceNames, undefined, "no resourceNames");
    for (const group of rule.apiGroups as string[]) {
      for (const resource of rule.resources as string[]) {
        for (const verb of rule.verbs as string[]) {
          assert.ok(![group, resource, verb].includes("*"), `no wildcard: ${JSON.stringify(rule)}`);
          out.add(`${group}/${resource} ${verb}`);
        }
      }
    }
  }
  return out;
}

function needed(permissions: readonly Permission[]): Set<string> {
  return new Set(permissions.flatMap((p) => p.verbs.map((v) => `${p.group}/${p.resource} ${v}`)));
}

/** What the controller's ServiceAccount may do: cluster-wide and in `namespace`. */
function serviceAccountRights(objects: Obj[], namespace: string) {
  const subjectIsOurs = (binding: Obj) =>
    (binding.subjects as Obj[]).some((s) =>
      s.kind === "ServiceAccount" && s.name === SERVICE_ACCOUNT && s.namespace === namespace
    );
  const cluster = new Set<string>();
  const local = new Set<string>();
  for (const binding of objects.filter((o) => o.kind === "ClusterRoleBinding")) {
    if (!subjectIsOurs(binding)) continue;
    assert.equal(binding.roleRef.kind, "ClusterRole");
    for (const right of granted(find(objects, "ClusterRole", binding.roleRef.name).rules)) {
      cluster.add(right);
    }
  }
  for (const binding of objects.filter((o) => o.kind === "RoleBinding")) {
    if (!subjectIsOurs(binding) || binding.metadata.namespace !== namespace) continue;
    assert.equal(binding.roleRef.kind, "Role", "no ClusterRole bound per namespace");
    const role = objects.find((o) =>
      o.kind === "Role" && o.metadata.name === binding.roleRef.name &&
      o.metadata.namespace === namespace
    );
    assert.ok(role, `Role ${binding.roleRef.name} in ${namespace}`);
    for (const right of granted(role.rules)) local.add(right);
  }
  return { cluster, local };
}

// --------------------------------------------------------------- invariants

/** The rules that make the controller work, for any render. */
function assertControllerInvariants(objects: Obj[], options: { namespace: string }) {
  const { namespace } = options;
  const deployment = find(objects, "Deployment", DEPLOYMENT);
  const daemonSet = find(objects, "DaemonSet", "klustre-csi-node");
  const spec = podSpec(deployment);
  const driver = container(deployment, "klustre-csi");
  const provisioner = container(deployment, "csi-provisioner");
  const resizer = container(deployment, "csi-resizer");
  const liveness = container(deployment, "liveness-probe");
  const { config, text } = controllerConfig(objects);

  assert.equal(deployment.metadata.namespace, namespace);
  assert.deepEqual(
    (spec.containers as Obj[]).map((c) => c.name).sort(),
    ["klustre-csi", ...SIDECARS].sort(),
  );
  assert.deepEqual(args(driver).slice(0, 3), [
    "controller",
    "--settings",
    "/etc/klustre-csi/settings.yaml",
  ]);

  // The settings file holds only keys the config loader knows (nodeId is the node's).
  const known = new Set<string>(SETTINGS.map((s) => s.key));
  for (const key of Object.keys(parseYaml(text) ?? {})) assert.ok(known.has(key), key);

  // One socket: the driver listens where every sidecar connects, in a pod-private emptyDir.
  assert.equal(config.endpoint, "unix:///csi/csi.sock");
  const socketDir = config.socketPath.slice(0, config.socketPath.lastIndexOf("/"));
  for (const c of [provisioner, resizer, liveness]) {
    assert.equal(argValue(c, "csi-address"), config.socketPath, `${c.name} --csi-address`);
  }
  const socketMount = (driver.volumeMounts as Obj[]).find((m) => m.mountPath === socketDir);
  assert.ok(socketMount, "the driver mounts the socket dir");
  for (const c of spec.containers as Obj[]) {
    assert.equal(mountOf(c, socketMount.name).mountPath, socketDir, `${c.name}: socket dir`);
  }
  assert.deepEqual(volumeOf(deployment, socketMount.name).emptyDir, {});

  // The state dir: where settings.stateDir says, an emptyDir, never propagated.
  const stateMount = (driver.volumeMounts as Obj[]).find((m) => m.mountPath === config.stateDir);
  assert.ok(stateMount, `the driver mounts ${config.stateDir}`);
  assert.deepEqual(volumeOf(deployment, stateMount.name).emptyDir, {});
  for (const c of spec.containers as Obj[]) {
    for (const m of (c.volumeMounts ?? []) as Obj[]) {
      assert.ok(!m.mountPropagation || m.mountPropagation === "None", `${c.name}: ${m.name}`);
    }
  }

  // Mounting Lustre: privileged, host network and resolver like the node plugin, on a client node.
  assert.equal(driver.securityContext.privileged, true);
  assert.equal(spec.hostNetwork, true);
  assert.equal(spec.dnsPolicy, podSpec(daemonSet).dnsPolicy);
  assert.equal(spec.nodeSelector?.[CLIENT_LABEL], "true", "runs on a Lustre client node");
  assert.ok(spec.tolerations?.length > 0, "tolerations");
  for (const t of spec.tolerations as Obj[]) {
    assert.ok(t.key, `no toleration of every taint: ${JSON.stringify(t)}`);
  }
  for (const c of [provisioner, resizer, liveness]) {
    assert.equal(c.securityContext?.privileged, undefined, `${c.name} is not privileged`);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
  }

  // The host's Lustre tools, read-only, exactly as the node plugin sees them.
  const nodeDriver = container(daemonSet, "klustre-csi");
  const ours = hostMounts(deployment, driver);
  const nodes = hostMounts(daemonSet, nodeDriver);
  for (const path of ["/dev", "/etc/lustre"]) assert.equal(ours.get(path), nodes.get(path), path);
  const hostDirs = (map: Map<string, string>) =>
    [...map].filter(([path]) => path.startsWith("/host/")).sort();
  assert.deepEqual(hostDirs(ours), hostDirs(nodes));
  for (const m of driver.volumeMounts as Obj[]) {
    if (m.mountPath.startsWith("/host/")) assert.equal(m.readOnly, true, m.mountPath);
  }
  for (const dir of [...config.pathEnv.split(":"), ...config.ldLibraryPath.split(":")]) {
    if (dir.startsWith("/host/")) {
      assert.ok([...ours.keys()].some((path) => isUnder(dir, path)), `${dir} is mounted`);
    }
  }

  // The sidecars: --extra-create-metadata for the templates, leader election in our namespace.
  assert.ok(args(provisioner).includes("--extra-create-metadata"));
  for (const c of [provisioner, resizer]) {
    assert.ok(args(c).includes("--leader-election"), `${c.name}: --leader-election`);
    assert.equal(argValue(c, "leader-election-namespace"), namespace);
    assert.match(argValue(c, "timeout"), /^\d+s$/);
  }
  assert.equal(argValue(provisioner, "feature-gates"), "Topology=true");
  assert.equal(argValue(provisioner, "strict-topology"), "false");
  assert.equal(argValue(resizer, "handle-volume-inuse-error"), "false");

  // Liveness over the socket; metrics where the settings say; host ports apart from the node's.
  const port = (name: string) => (driver.ports as Obj[]).find((p) => p.name === name);
  assert.equal(driver.livenessProbe.httpGet.port, "healthz");
  assert.equal(driver.livenessProbe.httpGet.path, "/healthz");
  assert.equal(argValue(liveness, "health-port"), String(port("healthz")?.containerPort));
  assert.equal(config.metricsAddress, `0.0.0.0:${port("metrics")?.containerPort}`);
  assert.notEqual(port("healthz")?.containerPort, port("metrics")?.containerPort);
  const nodePorts = hostPorts(daemonSet);
  const clash = [...hostPorts(deployment)].filter((p) => nodePorts.has(p));
  assert.deepEqual(clash, [], "host ports the node plugin also opens");
  for (const c of spec.containers as Obj[]) {
    assert.ok(c.resources?.requests && c.resources?.limits, `${c.name}: requests and limits`);
  }
  assert.equal(
    container(deployment, "liveness-probe").image,
    container(daemonSet, "liveness-probe").image,
    "one livenessprobe image",
  );

  // Leader election makes replicas standbys; host ports make them one per node.
  assert.ok(deployment.spec.replicas >= 1);
  assert.equal(deployment.spec.strategy.rollingUpdate.maxSurge, 0);

  // Its own ServiceAccount, with an API token for the sidecars, and just the RBAC they need.
  assert.equal(spec.serviceAccountName, SERVICE_ACCOUNT);
  assert.notEqual(spec.automountServiceAccountToken, false);
  const account = find(objects, "ServiceAccount", SERVICE_ACCOUNT);
  assert.equal(account.metadata.namespace, namespace);
  assert.notEqual(account.automountServiceAccountToken, false);
  const rights = serviceAccountRights(objects, namespace);
  for (const [sidecar, permissions] of Object.entries(NEEDS)) {
    const needs = needed(permissions.filter((p) => !p.namespaced));
    const local = needed(permissions.filter((p) => p.namespaced));
    for (const right of needs) assert.ok(rights.cluster.has(right), `${sidecar}: ${right}`);
    for (const right of local) assert.ok(rights.local.has(right), `${sidecar}: ${right} here`);
  }
  const all = Object.values(NEEDS).flat();
  assert.deepEqual(
    [...rights.cluster].sort(),
    [...needed(all.filter((p) => !p.namespaced))].sort(),
    "cluster-wide rights are exactly what the sidecars need",
  );
  assert.deepEqual(
    [...rights.local].sort(),
    [...needed(all.filter((p) => p.namespaced))].sort(),
    "namespaced rights are exactly the leases and the provisioner secrets",
  );
}

/** Every object of the controller carries the chart's and base's labels. */
function assertControllerLabels(objects: Obj[]) {
  const controllerKinds = ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"];
  for (const o of objects) {
    const isController = o.metadata.name.startsWith("klustre-csi-controller") &&
      (controllerKinds.includes(o.kind) || ["Deployment", "ServiceAccount"].includes(o.kind));
    if (!isController) continue;
    assert.equal(o.metadata.labels["app.kubernetes.io/name"], "klustre-csi", keyOf(o));
    assert.equal(o.metadata.labels["app.kubernetes.io/part-of"], "klustre-csi", keyOf(o));
    assert.equal(o.metadata.labels["app.kubernetes.io/component"], "controller", keyOf(o));
  }
}

// -------------------------------------------------------------------- tests

Deno.test("kustomize controller set renders the controller's objects in klustre-system", () => {
  const objects = renderKustomization(CONTROLLER_DIR);
  assert.deepEqual([...byKey(objects).keys()].sort(), [
    "ClusterRole//klustre-csi-controller",
    "ClusterRoleBinding//klustre-csi-controller",
    "ConfigMap/klustre-system/klustre-csi-controller-service",
    "Deployment/klustre-system/klustre-csi-controller",
    "Role/klustre-system/klustre-csi-controller-leader-election",
    "Role/klustre-system/klustre-csi-controller-secrets",
    "RoleBinding/klustre-system/klustre-csi-controller-leader-election",
    "RoleBinding/klustre-system/klustre-csi-controller-secrets",
    "ServiceAccount/klustre-system/klustre-csi-controller",
  ]);
  assertControllerLabels(objects);
  // It adds to the base without redefining any of its objects.
  byKey(renderWithController());
});

/** The node plugin's controllerService as it resolves in the pod, from the objects installed. */
function nodeControllerService(objects: Obj[]): boolean {
  const driver = container(find(objects, "DaemonSet", "klustre-csi-node"), "klustre-csi");
  const env = (driver.env as Obj[]).find((e) => e.name === "KLUSTRE_CONTROLLER_SERVICE");
  assert.ok(env, "the node plugin reads KLUSTRE_CONTROLLER_SERVICE");
  const ref = env.valueFrom.configMapKeyRef;
  assert.equal(ref.optional, true, "the node plugin starts without the controller set");
  const configMap = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === ref.name);
  const value: string | undefined = configMap?.data?.[ref.key];
  return parseConfig("node", [], {
    env: { KUBE_NODE_NAME: "node-1", ...(value === undefined ? {} : { [env.name]: value }) },
    readTextFile: () => "",
  }).controllerService;
}

Deno.test("the controller set turns controllerService on for the node plugins; the base alone leaves it off", () => {
  assert.equal(nodeControllerService(renderKustomization(BASE_DIR)), false);
  assert.equal(nodeControllerService(renderWithController()), true);
  if (HELM) {
    assert.equal(nodeControllerService(helmTemplate()), false);
    assert.equal(nodeControllerService(helmTemplate("controller.enabled=true")), true);
  }
});

Deno.test("kustomize controller set and dynamic examples validate against the API schemas", () => {
  assertValidObjects(renderKustomization(CONTROLLER_DIR));
  for (
    const file of [
      "dynamic-storageclass.yaml",
      "dynamic-pvc.yaml",
      "dynamic-pod.yaml",
      "dynamic-volumeattributesclass.yaml",
    ]
  ) {
    assertValidObjects(readDocs(`${EXAMPLES_DIR}/${file}`));
  }
});

Deno.test("schemaProblems() checks RBAC objects for unknown fields and bad values", () => {
  const role = structuredClone(find(renderKustomization(CONTROLLER_DIR), "ClusterRole"));
  role.rules[0].resource = ["pods"];
  role.rules[1].verbs = "get";
  const problems = schemaProblems(role).join("\n");
  assert.match(problems, /rules\/0\/resource is not a field/);
  assert.match(problems, /rules\/1\/verbs fails type/);
});

Deno.test("kustomize base plus controller keeps one socket, settings, leader election, RBAC", () => {
  assertControllerInvariants(renderWithController(), { namespace: NAMESPACE });
});

Deno.test("controller invariants catch a broken socket, RBAC or port", () => {
  const cases: [string, (objects: Obj[]) => void, RegExp][] = [
    ["sidecar socket", (o) => {
      container(find(o, "Deployment", DEPLOYMENT), "csi-resizer").args[0] = "--csi-address=/x.sock";
    }, /csi-resizer --csi-address/],
    ["no metadata", (o) => {
      const p = container(find(o, "Deployment", DEPLOYMENT), "csi-provisioner");
      p.args = args(p).filter((a) => a !== "--extra-create-metadata");
    }, /extra-create-metadata/],
    ["no leader election", (o) => {
      const r = container(find(o, "Deployment", DEPLOYMENT), "csi-resizer");
      r.args = args(r).filter((a) => a !== "--leader-election");
    }, /csi-resizer: --leader-election/],
    ["missing right", (o) => {
      find(o, "ClusterRole").rules[0].verbs = ["get", "list", "watch", "patch", "delete"];
    }, /csi-provisioner: \/persistentvolumes create/],
    ["extra right", (o) => {
      find(o, "ClusterRole").rules.push({
        apiGroups: [""],
        resources: ["secrets"],
        verbs: ["get"],
      });
    }, /exactly what the sidecars need/],
    ["port clash", (o) => {
      const d = container(find(o, "Deployment", DEPLOYMENT), "klustre-csi");
      d.env[1].value = "0.0.0.0:9810";
      d.ports[1].containerPort = 9810;
    }, /host ports the node plugin also opens/],
  ];
  for (const [name, breakIt, pattern] of cases) {
    const objects = structuredClone(renderWithController());
    breakIt(objects);
    assert.throws(
      () => assertControllerInvariants(objects, { namespace: NAMESPACE }),
      pattern,
      name,
    );
  }
});

Deno.test("kustomize controller runs the driver image tagged with the driver version", () => {
  const deployment = find(renderKustomization(CONTROLLER_DIR), "Deployment");
  assert.equal(container(deployment, "klustre-csi").image, `${IMAGE_REPOSITORY}:${DRIVER_VERSION}`);
  for (const c of podSpec(deployment).containers as Obj[]) {
    assert.match(c.image, /^[^:]+(:\d+)?\/[^:]+:v?\d+\.\d+\.\d+$/, `${c.name}: pinned image`);
  }
  const sidecarImage = (name: string) => container(deployment, name).image;
  assert.match(
    sidecarImage("csi-provisioner"),
    /^registry\.k8s\.io\/sig-storage\/csi-provisioner:/,
  );
  assert.match(sidecarImage("csi-resizer"), /^registry\.k8s\.io\/sig-storage\/csi-resizer:/);
  assert.match(sidecarImage("liveness-probe"), /^registry\.k8s\.io\/sig-storage\/livenessprobe:/);
});

Deno.test("example dynamic StorageClass asks for an expandable, deleted, late-bound volume", () => {
  const sc = find(readDocs(`${EXAMPLES_DIR}/dynamic-storageclass.yaml`), "StorageClass");
  assert.equal(sc.metadata.name, "klustre-csi-dynamic");
  assert.equal(sc.provisioner, DRIVER_NAME);
  assert.equal(sc.allowVolumeExpansion, true);
  assert.equal(sc.reclaimPolicy, "Delete");
  assert.equal(sc.volumeBindingMode, "WaitForFirstConsumer");
  assert.deepEqual(sc.allowedTopologies, [
    { matchLabelExpressions: [{ key: CLIENT_LABEL, values: ["true"] }] },
  ]);
  assert.deepEqual(sc.parameters, {
    source: "10.0.0.1@tcp0:/lustre-fs",
    basePath: "k8s",
    subdirTemplate: "${pvc.metadata.namespace}-${pvc.metadata.name}",
    onDelete: "delete",
    projectIdRange: "1000000-1999999",
  });
});

/** The parameters CreateVolume gets: the class's, plus what --extra-create-metadata adds. */
function createVolumeParameters(sc: Obj, pvc: Obj): Record<string, string> {
  return {
    ...sc.parameters,
    "csi.storage.k8s.io/pvc/name": pvc.metadata.name,
    "csi.storage.k8s.io/pvc/namespace": pvc.metadata.namespace,
    "csi.storage.k8s.io/pv/name": "pvc-0b5d2c6e-8c1a-4c6f-9d7e-3f1a2b3c4d5e",
  };
}

/** The commented optional parameters of the example, uncommented. */
function commentedParameters(): Record<string, string> {
  const text = Deno.readTextFileSync(`${EXAMPLES_DIR}/dynamic-storageclass.yaml`);
  const body = text.slice(text.indexOf("\nparameters:\n"));
  const out: Record<string, string> = {};
  for (const match of body.matchAll(/^ {2}# ([A-Za-z]+): (.+)$/gm)) {
    out[match[1]] = String(parseYaml(match[2]));
  }
  return out;
}

Deno.test("example dynamic StorageClass parameters and commented options are the controller's", () => {
  const sc = find(readDocs(`${EXAMPLES_DIR}/dynamic-storageclass.yaml`), "StorageClass");
  const pvc = find(readDocs(`${EXAMPLES_DIR}/dynamic-pvc.yaml`), "PersistentVolumeClaim");
  const commented = commentedParameters();
  assert.deepEqual(Object.keys(commented).sort(), [
    "directoryMode",
    "gid",
    "inodeQuota",
    "mountOptions",
    "pool",
    "stripeCount",
    "stripeSize",
  ]);
  for (const key of [...Object.keys(sc.parameters), ...Object.keys(commented)]) {
    assert.ok(key in PARAMETER_DEFAULTS, `${key} is a StorageClass parameter`);
  }
  const parameters = createVolumeParameters(sc, pvc);
  // Every parameter but the template (see the ignored test below), with the options uncommented.
  const { subdirTemplate, ...rest } = parameters;
  const { params, metadata } = parseParameters({ ...rest, ...commented });
  assert.equal(params.source.fsSource, "10.0.0.1@tcp:/lustre-fs");
  assert.equal(params.base, "/k8s");
  assert.equal(params.onDelete, "delete");
  assert.deepEqual([params.projectIdMin, params.projectIdMax], [1000000, 1999999]);
  assert.deepEqual(params.striping, { count: 4, size: "4M", pool: "flash" });
  assert.equal(params.inodeQuota, 1000000);
  assert.deepEqual(params.mountOptions, ["flock", "user_xattr"]);
  assert.equal(params.gid, 2000);
  assert.equal(params.directoryMode, 0o2770);
  // The template names one directory per claim from the metadata the provisioner adds.
  assert.equal(
    expandTemplate(subdirTemplate, metadata, "unused"),
    `${pvc.metadata.namespace}-${pvc.metadata.name}`,
  );
  assert.throws(() => expandTemplate(subdirTemplate, {}, "pvc-1"), /--extra-create-metadata/);
});

Deno.test({
  name: "parseParameters() accepts the example dynamic StorageClass as CreateVolume gets it",
  fn() {
    const sc = find(readDocs(`${EXAMPLES_DIR}/dynamic-storageclass.yaml`), "StorageClass");
    const pvc = find(readDocs(`${EXAMPLES_DIR}/dynamic-pvc.yaml`), "PersistentVolumeClaim");
    const { params, metadata } = parseParameters(createVolumeParameters(sc, pvc));
    assert.equal(
      expandTemplate(params.subdirTemplate, metadata, "unused"),
      "default-lustre-dynamic-pvc",
    );
    parseParameters({ ...createVolumeParameters(sc, pvc), ...commentedParameters() });
  },
});

Deno.test("example dynamic PVC asks 10Gi RWX of the dynamic class, and the pod mounts it", () => {
  const pvc = find(readDocs(`${EXAMPLES_DIR}/dynamic-pvc.yaml`), "PersistentVolumeClaim");
  assert.equal(pvc.spec.storageClassName, "klustre-csi-dynamic");
  assert.deepEqual(pvc.spec.accessModes, ["ReadWriteMany"]);
  assert.equal(pvc.spec.resources.requests.storage, "10Gi");
  assert.equal(pvc.spec.volumeName, undefined, "provisioned, not bound by name");
  const pod = find(readDocs(`${EXAMPLES_DIR}/dynamic-pod.yaml`), "Pod");
  assert.equal(pod.metadata.namespace, pvc.metadata.namespace);
  assert.equal(pod.spec.volumes[0].persistentVolumeClaim.claimName, pvc.metadata.name);
});

Deno.test({
  name: "kubectl kustomize renders the controller set as this test's renderer does",
  ignore: !KUBECTL,
  fn() {
    const rendered = parseDocs(runOk(KUBECTL!, ["kustomize", CONTROLLER_DIR]), "kubectl kustomize");
    assertSameObjects(rendered, renderKustomization(CONTROLLER_DIR));
  },
});

Deno.test({
  name: "helm template with controller.enabled=true equals the kustomize base plus controller",
  ignore: !HELM,
  fn() {
    const all = renderWithController();
    assertSameObjects(
      helmTemplate("controller.enabled=true"),
      all.filter((o) => o.kind !== "Namespace"),
    );
    assertSameObjects(helmTemplate("controller.enabled=true", "namespace.create=true"), all);
    assert.ok(!helmTemplate().some((o) => o.metadata.name.startsWith("klustre-csi-controller")));
  },
});

Deno.test({
  name: "helm template keeps the controller invariants for other values and refuses port clashes",
  ignore: !HELM,
  fn() {
    const namespace = "lustre-csi";
    const custom = parseDocs(
      runOk(HELM!, [
        "template",
        "k",
        CHART_DIR,
        "--namespace",
        namespace,
        ...[
          "controller.enabled=true",
          "controller.replicas=2",
          "controller.ports.healthz=19813",
          "controller.ports.metrics=19814",
          "stateDir=/srv/klustre-csi",
          "image.tag=1.2.3",
          "sidecars.provisioner.image.tag=v9.9.9",
          "sidecars.provisioner.timeout=300s",
        ].flatMap((v) => ["--set", v]),
      ]),
      "helm template",
    );
    assertValidObjects(custom);
    assertControllerInvariants(custom, { namespace });
    const deployment = find(custom, "Deployment", DEPLOYMENT);
    assert.equal(deployment.spec.replicas, 2);
    assert.equal(controllerConfig(custom).config.stateDir, "/srv/klustre-csi");
    assert.equal(container(deployment, "klustre-csi").image, `${IMAGE_REPOSITORY}:1.2.3`);
    const provisioner = container(deployment, "csi-provisioner");
    assert.equal(provisioner.image, "registry.k8s.io/sig-storage/csi-provisioner:v9.9.9");
    assert.equal(argValue(provisioner, "timeout"), "300s");
    runOk(HELM!, ["lint", "--strict", CHART_DIR, "--set", "controller.enabled=true"]);
    for (
      const [value, message] of [
        [
          "controller.ports.metrics=9810",
          /controller\.ports\.metrics \(9810\) is a port of the node/,
        ],
        ["controller.ports.healthz=9814", /must differ/],
      ] as const
    ) {
      const out = runTool(HELM!, [
        "template",
        "k",
        CHART_DIR,
        "--set",
        "controller.enabled=true",
        "--set",
        value,
      ]);
      assert.notEqual(out.code, 0, value);
      assert.match(out.stderr, message);
    }
  },
});
