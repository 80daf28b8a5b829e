/** Kubernetes object-name rules (DNS-1123), for generated PVs and PVCs. */

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A DNS-1123 label: namespaces; at most 63 of a-z 0-9 "-", alphanumeric at both ends. */
export function isDns1123Label(name: string): boolean {
  return name.length <= 63 && LABEL.test(name);
}

/** A DNS-1123 subdomain: PV and PVC names; at most 253, dot-separated labels. */
export function isDns1123Subdomain(name: string): boolean {
  return name.length <= 253 && name.split(".").every((part) => LABEL.test(part));
}
