/** The one place the driver's name and version live. */
export const DRIVER_NAME = "lustre.csi.klustrefs.io";

/** Released version; the container image tag and Helm chart appVersion equal it. */
export const DRIVER_VERSION = "0.1.0";

/** CSI spec version of proto/csi.proto. */
export const CSI_SPEC_VERSION = "1.12.0";
