/**
 * Install and uninstall as docs/install.md writes them: the objects its
 * uninstall commands delete (rendered from the same kustomizations and files)
 * cover every cluster-scoped object the install commands of install.md,
 * provisioning.md and operations.md create, and every namespaced one through its namespace; the
 * Helm release keeps nothing behind.
 */
import assert from "node:assert/strict";
import {
  BASE_DIR,
  HELM,
  helmTemplate,
  keyOf,
  NAMESPACE,
  type Obj,
  readDocs,
  renderKustomization,
  ROOT,
} from "./support/manifests.ts";

/** Kinds that have no namespace. */
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "CSIDriver",
  "StorageClass",
  "ClusterRole",
  "ClusterRoleBinding",
  "PersistentVolume",
  "PriorityClass",
]);

/** One `##` section of a markdown file, heading included. */
function section(file: string, heading: string): string {
  const text = Deno.readTextFileSync(`${ROOT}${file}`);
  const start = text.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `${file} has a "## ${heading}" section`);
  const end = text.indexOf("\n## ", start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

/** The paths given to `kubectl VERB -k|-f PATH` in a text, by flag. */
function kubectlPaths(text: string, verb: string): { k: string[]; f: string[] } {
  const found = { k: [] as string[], f: [] as string[] };
  const pattern = new RegExp(`kubectl ${verb}((?: +(?:-[kf] +\\S+|--\\S+|\\\\\\n))+)`, "g");
  for (const match of text.matchAll(pattern)) {
    for (const arg of match[1].matchAll(/-([kf]) +(\S+)/g)) {
      found[arg[1] as "k" | "f"].push(arg[2]);
    }
  }
  return found;
}

/** The objects of `kubectl apply|delete -k/-f` of those paths. */
function render(paths: { k: string[]; f: string[] }): Obj[] {
  return [
    ...paths.k.map((dir) => renderKustomization(`${ROOT}${dir.replace(/\/$/, "")}`)),
    ...paths.f.map((file) => readDocs(`${ROOT}${file}`)),
  ].flat();
}

/** The objects of ours an uninstall following `deleted` would leave behind. */
function leftBehind(installed: Obj[], deleted: Obj[], alsoDeleted: string[] = []): string[] {
  const gone = new Set([...deleted.map(keyOf), ...alsoDeleted]);
  const namespacesGone = new Set(
    [...gone].filter((k) => k.startsWith("Namespace//")).map((k) => k.slice(11)),
  );
  return installed.filter((o) => {
    if (o.kind === "PersistentVolume") return false; // static PVs stay on purpose (Retain)
    if (gone.has(keyOf(o))) return false;
    if (CLUSTER_SCOPED.has(o.kind)) return true;
    return !namespacesGone.has(o.metadata?.namespace ?? "default");
  }).map(keyOf);
}

const INSTALL_DOCS = ["docs/install.md", "docs/provisioning.md", "docs/operations.md"];

/** What install.md and provisioning.md tell an admin to apply (the plugin, controller, classes). */
function installedByDocs(): Obj[] {
  const applied = { k: [] as string[], f: [] as string[] };
  for (const file of INSTALL_DOCS) {
    const paths = kubectlPaths(Deno.readTextFileSync(`${ROOT}${file}`), "apply");
    applied.k.push(...paths.k.filter((p) => p.startsWith("manifests")));
    applied.f.push(...paths.f.filter((p) => p.startsWith("manifests")));
  }
  const objects = render({ k: [...new Set(applied.k)], f: [...new Set(applied.f)] });
  // Only our own install objects, not the example workloads and their claims.
  return objects.filter((o) => CLUSTER_SCOPED.has(o.kind) || o.metadata?.namespace === NAMESPACE);
}

Deno.test("install.md's uninstall removes every cluster-scoped object the documented install creates", () => {
  const installed = installedByDocs();
  const kinds = new Set(installed.map((o) => o.kind));
  for (const kind of ["CSIDriver", "StorageClass", "ClusterRole", "ClusterRoleBinding"]) {
    assert.ok(kinds.has(kind), `the documented install creates a ${kind}`);
  }
  const uninstall = section("docs/install.md", "Uninstall");
  const deleted = render(kubectlPaths(uninstall, "delete"));
  assert.deepEqual(leftBehind(installed, deleted), []);
  // The controller's set goes before the base (its namespace), and tolerates not being installed.
  const controllerAt = uninstall.indexOf(
    "kubectl delete -k manifests/controller --ignore-not-found",
  );
  assert.ok(controllerAt >= 0, "the controller set is deleted, --ignore-not-found");
  assert.ok(controllerAt < uninstall.indexOf("kubectl delete -k manifests\n"));
  // Dynamic volumes go while the controller runs: before the plugin's removal.
  assert.ok(uninstall.indexOf("kubectl delete pvc") < controllerAt, "PVCs before the controller");
});

Deno.test("leftBehind() names the controller's ClusterRole when only the base is deleted", () => {
  const installed = installedByDocs();
  const left = leftBehind(installed, renderKustomization(BASE_DIR));
  assert.ok(left.includes("ClusterRole//klustre-csi-controller"), left.join(", "));
  assert.ok(left.includes("ClusterRoleBinding//klustre-csi-controller"), left.join(", "));
  assert.ok(!left.some((k) => k.startsWith("Deployment/")), "namespaced objects go with it");
});

Deno.test("kubectlPaths() reads -k and -f arguments across continued lines", () => {
  assert.deepEqual(
    kubectlPaths(
      "kubectl apply -f a.yaml \\\n  -f b.yaml -f c.yaml\nkubectl delete -k m/c --ignore-not-found\n" +
        "kubectl apply -k manifests   # note",
      "apply",
    ),
    { k: ["manifests"], f: ["a.yaml", "b.yaml", "c.yaml"] },
  );
});

Deno.test({
  name: "helm uninstall leaves nothing of the release behind but the documented namespace",
  ignore: !HELM,
  fn() {
    const rendered = helmTemplate("controller.enabled=true");
    for (const object of rendered) {
      assert.notEqual(
        object.metadata?.annotations?.["helm.sh/resource-policy"],
        "keep",
        `${keyOf(object)} would outlive helm uninstall`,
      );
    }
    // The release holds the same cluster-scoped objects as the two kustomize sets.
    const clusterScoped = (objects: Obj[]) =>
      objects.filter((o) => CLUSTER_SCOPED.has(o.kind) && o.kind !== "Namespace").map(keyOf)
        .sort();
    const kustomize = render({ k: ["manifests", "manifests/controller"], f: [] });
    assert.deepEqual(clusterScoped(rendered), clusterScoped(kustomize));
    // The namespace Helm does not own is deleted by hand.
    const uninstall = section("docs/install.md", "Uninstall");
    assert.match(uninstall, /helm uninstall klustre-csi -n klustre-system/);
    assert.match(uninstall, new RegExp(`kubectl delete namespace ${NAMESPACE}`));
  },
});
