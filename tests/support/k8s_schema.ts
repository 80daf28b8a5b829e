/**
 * Validation of Kubernetes objects against the API schemas
 * (kubernetes-models), unknown fields included: the schema's validator reads
 * every property it knows, so a key it never read (tracked with a Proxy) is
 * a field the API server would refuse, such as a typo like `mountPropogation`.
 */
import "./quiet_punycode.ts";
import { validate as namespace } from "kubernetes-models/_schemas/IoK8sApiCoreV1Namespace";
import { validate as serviceAccount } from "kubernetes-models/_schemas/IoK8sApiCoreV1ServiceAccount";
import { validate as configMap } from "kubernetes-models/_schemas/IoK8sApiCoreV1ConfigMap";
import { validate as pv } from "kubernetes-models/_schemas/IoK8sApiCoreV1PersistentVolume";
import { validate as pvc } from "kubernetes-models/_schemas/IoK8sApiCoreV1PersistentVolumeClaim";
import { validate as pod } from "kubernetes-models/_schemas/IoK8sApiCoreV1Pod";
import { validate as daemonSet } from "kubernetes-models/_schemas/IoK8sApiAppsV1DaemonSet";
import { validate as deployment } from "kubernetes-models/_schemas/IoK8sApiAppsV1Deployment";
import { validate as csiDriver } from "kubernetes-models/_schemas/IoK8sApiStorageV1CSIDriver";
import { validate as storageClass } from "kubernetes-models/_schemas/IoK8sApiStorageV1StorageClass";
import { validate as volumeAttributesClass } from "kubernetes-models/_schemas/IoK8sApiStorageV1VolumeAttributesClass";
import { validate as clusterRole } from "kubernetes-models/_schemas/IoK8sApiRbacV1ClusterRole";
import { validate as clusterRoleBinding } from "kubernetes-models/_schemas/IoK8sApiRbacV1ClusterRoleBinding";
import { validate as role } from "kubernetes-models/_schemas/IoK8sApiRbacV1Role";
import { validate as roleBinding } from "kubernetes-models/_schemas/IoK8sApiRbacV1RoleBinding";

// deno-lint-ignore no-explicit-any -- Kubernetes objects are walked generically
type Obj = Record<string, any>;

type SchemaValidate = ((data: unknown) => boolean) & {
  errors?: { instancePath: string; keyword: string; params: unknown }[] | null;
};

const SCHEMAS: Record<string, SchemaValidate> = {
  "v1/Namespace": namespace,
  "v1/ServiceAccount": serviceAccount,
  "v1/ConfigMap": configMap,
  "v1/PersistentVolume": pv,
  "v1/PersistentVolumeClaim": pvc,
  "v1/Pod": pod,
  "apps/v1/DaemonSet": daemonSet,
  "apps/v1/Deployment": deployment,
  "storage.k8s.io/v1/CSIDriver": csiDriver,
  "storage.k8s.io/v1/StorageClass": storageClass,
  "storage.k8s.io/v1/VolumeAttributesClass": volumeAttributesClass,
  "rbac.authorization.k8s.io/v1/ClusterRole": clusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": clusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": role,
  "rbac.authorization.k8s.io/v1/RoleBinding": roleBinding,
};

/** Schema errors plus fields the schema does not know; empty when the object is valid. */
export function schemaProblems(object: Obj): string[] {
  const validate = SCHEMAS[`${object.apiVersion}/${object.kind}`];
  if (!validate) return [`no schema for ${object.apiVersion}/${object.kind}`];
  const read = new Map<object, { path: string; keys: Set<string> }>();
  const track = (value: unknown, path: string): unknown => {
    if (value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map((v, i) => track(v, `${path}/${i}`));
    const target: Obj = {};
    for (const [k, v] of Object.entries(value)) target[k] = track(v, `${path}/${k}`);
    const keys = new Set<string>();
    read.set(target, { path, keys });
    return new Proxy(target, {
      get(t, property, receiver) {
        if (typeof property === "string") keys.add(property);
        return Reflect.get(t, property, receiver);
      },
    });
  };
  const problems: string[] = [];
  if (!validate(track(object, ""))) {
    for (const e of validate.errors ?? []) {
      problems.push(`${e.instancePath || "/"} fails ${e.keyword} ${JSON.stringify(e.params)}`);
    }
  }
  for (const [target, { path, keys }] of read) {
    for (const key of Object.keys(target)) {
      if (!keys.has(key)) problems.push(`${path}/${key} is not a field of the API`);
    }
  }
  return problems;
}
