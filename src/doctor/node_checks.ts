/** Doctor checks of the node around Lustre: the kubelet directory and the driver's socket. */
import { type CheckResult, fail, pass } from "./check_result.ts";

/** Is `dir` an existing directory? */
export async function checkKubeletDir(
  dir: string,
  isDirectory: (path: string) => Promise<boolean>,
): Promise<CheckResult> {
  const name = "kubelet dir";
  if (await isDirectory(dir)) return pass(name, `${dir} exists`);
  return fail(
    name,
    `${dir} is not a directory`,
    "pass --kubelet-dir with kubelet's --root-dir (e.g. /var/snap/microk8s/common/var/lib/kubelet " +
      "on MicroK8s, /var/lib/k0s/kubelet on k0s) and set the kubeletDir setting to the same path",
  );
}

/** Does the driver on `endpoint` answer Probe, and ready? */
export async function checkSocket(
  endpoint: string,
  probe: (endpoint: string) => Promise<boolean>,
): Promise<CheckResult> {
  const name = "csi socket";
  let ready: boolean;
  try {
    ready = await probe(endpoint);
  } catch (error) {
    return fail(
      name,
      `${endpoint} did not answer Probe: ${(error as Error).message}`,
      "start the node plugin (kubectl -n klustre-system get pods -o wide), or pass --endpoint " +
        "with the socket the driver listens on (setting endpoint, CSI_ENDPOINT)",
    );
  }
  if (ready) return pass(name, `${endpoint} answered Probe: ready`);
  return fail(
    name,
    `${endpoint} answered Probe: not ready`,
    "the driver cannot use the Lustre client: fix the checks above, then read its log " +
      "(kubectl -n klustre-system logs ds/klustre-csi-node -c klustre-csi)",
  );
}
