/**
 * Install artefacts as objects: the repository's paths and names, the YAML
 * parser, a renderer for resource-only kustomizations, kubectl and helm when
 * installed (scripts/fetch-kube-tools, or on PATH), and the comparisons and
 * schema check the manifest tests share.
 */
import assert from "node:assert/strict";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { schemaProblems } from "./k8s_schema.ts";

/** A Kubernetes object, walked generically. */
// deno-lint-ignore no-explicit-any -- Kubernetes objects are walked generically
export type Obj = Record<string, any>;

/** The repository root, with a trailing slash. */
export const ROOT = new URL("../../", import.meta.url).pathname;
/** The kustomize base: the node plugin. */
export const BASE_DIR = `${ROOT}manifests`;
/** The example PVs, PVCs, pods and StorageClasses. */
export const EXAMPLES_DIR = `${ROOT}manifests/examples`;
/** The Helm chart. */
export const CHART_DIR = `${ROOT}charts/klustre-csi`;
/** The namespace the base and the chart install into. */
export const NAMESPACE = "klustre-system";
/** The node label that marks Lustre client nodes. */
export const CLIENT_LABEL = "lustre.csi.klustrefs.io/lustre-client";
/** The driver image, without its tag. */
export const IMAGE_REPOSITORY = "ghcr.io/klustrefs/klustre-csi";

// ---------------------------------------------------------------- rendering

/** The objects of a multi-document YAML text; empty documents are skipped. @throws SyntaxError */
export function parseDocs(text: string, source: string): Obj[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new SyntaxError(`${source}: ${doc.errors[0].message}`);
    const value = doc.toJS();
    return value === null || value === undefined ? [] : [value as Obj];
  });
}

/** The objects of a YAML file. */
export function readDocs(path: string): Obj[] {
  return parseDocs(Deno.readTextFileSync(path), path);
}

/** Renders a kustomization made only of resources, as `kubectl kustomize` does. */
export function renderKustomization(dir: string): Obj[] {
  const kustomization = parseYaml(Deno.readTextFileSync(`${dir}/kustomization.yaml`)) as Obj;
  const unsupported = Object.keys(kustomization).filter(
    (key) => !["apiVersion", "kind", "resources"].includes(key),
  );
  assert.deepEqual(
    unsupported,
    [],
    `${dir}/kustomization.yaml: this renderer handles resources only`,
  );
  return (kustomization.resources as string[]).flatMap((entry) => {
    const path = `${dir}/${entry}`;
    return Deno.statSync(path).isDirectory ? renderKustomization(path) : readDocs(path);
  });
}

// -------------------------------------------------------------------- tools

/** Whether `path` is a regular file. */
export function existsFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** kubectl and helm from KUBE_TOOLS_DIR, scripts/fetch-kube-tools' cache, or PATH. */
export function findTool(name: string): string | undefined {
  const dirs = [
    Deno.env.get("KUBE_TOOLS_DIR"),
    `${ROOT}node_modules/.cache/kube-tools`,
    ...(Deno.env.get("PATH") ?? "").split(":"),
  ];
  return dirs.filter((dir) => dir).map((dir) => `${dir}/${name}`).find(existsFile);
}

/** The kubectl binary, or undefined when it is not installed. */
export const KUBECTL = findTool("kubectl");
/** The helm binary, or undefined when it is not installed. */
export const HELM = findTool("helm");

/** Runs a command in the repository root and returns its exit code and output. */
export function runTool(
  command: string,
  args: string[],
): { code: number; stdout: string; stderr: string } {
  const out = new Deno.Command(command, { args, cwd: ROOT, stdout: "piped", stderr: "piped" })
    .outputSync();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** Runs a command in the repository root, asserts it succeeds, and returns its stdout. */
export function runOk(command: string, args: string[]): string {
  const out = runTool(command, args);
  assert.equal(out.code, 0, `${command} ${args.join(" ")} failed:\n${out.stderr}`);
  return out.stdout;
}

/** `helm template` of the chart in NAMESPACE, with each `key=value` passed to --set. */
export function helmTemplate(...set: string[]): Obj[] {
  const args = ["template", "klustre-csi", CHART_DIR, "--namespace", NAMESPACE];
  for (const value of set) args.push("--set", value);
  return parseDocs(runOk(HELM!, args), "helm template");
}

// -------------------------------------------------------------- comparisons

/** An object's identity in a render: kind/namespace/name. */
export function keyOf(object: Obj): string {
  return `${object.kind}/${object.metadata?.namespace ?? ""}/${object.metadata?.name}`;
}

/** A render's objects by keyOf(), asserting no object is defined twice. */
export function byKey(objects: Obj[]): Map<string, Obj> {
  const map = new Map<string, Obj>();
  for (const object of objects) {
    assert.ok(!map.has(keyOf(object)), `${keyOf(object)} is defined twice`);
    map.set(keyOf(object), object);
  }
  return map;
}

/** Asserts two renders hold the same objects, whatever their order. */
export function assertSameObjects(actual: Obj[], expected: Obj[]): void {
  const a = byKey(actual);
  const e = byKey(expected);
  assert.deepEqual([...a.keys()].sort(), [...e.keys()].sort());
  for (const [key, object] of e) assert.deepEqual(a.get(key), object, key);
}

/** The one object of `kind` (and `name`, when given), asserting there is exactly one. */
export function find(objects: Obj[], kind: string, name?: string): Obj {
  const found = objects.filter((o) => o.kind === kind && (!name || o.metadata.name === name));
  assert.equal(found.length, 1, `expected one ${kind} ${name ?? ""}`);
  return found[0];
}

/** Asserts every object passes the Kubernetes API schemas, unknown fields included. */
export function assertValidObjects(objects: Obj[]): void {
  for (const object of objects) assert.deepEqual(schemaProblems(object), [], keyOf(object));
}
