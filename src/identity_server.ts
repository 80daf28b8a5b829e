/** CSI Identity service: who the plugin is, what it offers, whether it is ready. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type GetPluginCapabilitiesResponseSchema,
  type GetPluginInfoResponseSchema,
  PluginCapability_Service_Type,
  PluginCapability_VolumeExpansion_Type,
  type ProbeResponseSchema,
} from "./csi/gen/csi_pb.ts";
import { DRIVER_NAME, DRIVER_VERSION } from "./version.ts";
import type { Logger } from "./log.ts";

/** Readiness of the driver itself: serving, not the Lustre client (that is a gauge). */
export interface Readiness {
  readonly ready: boolean;
  readonly reasons: readonly string[];
}

/** What the Identity handlers depend on. */
export interface IdentityDeps {
  /** True when the deployment serves the Controller service (this process or another). */
  readonly controllerServed: boolean;
  /** True when NodeGetInfo reports an accessible topology. */
  readonly reportsTopology: boolean;
  /** Whether the driver serves; never runs a Lustre tool, so it cannot hang. */
  readonly readiness: () => Promise<Readiness>;
  readonly logger: Logger;
}

/** The Identity handlers, one per RPC. */
export interface IdentityHandlers {
  getPluginInfo(): Promise<MessageInitShape<typeof GetPluginInfoResponseSchema>>;
  getPluginCapabilities(): Promise<MessageInitShape<typeof GetPluginCapabilitiesResponseSchema>>;
  probe(): Promise<MessageInitShape<typeof ProbeResponseSchema>>;
}

/** Builds the Identity handlers. */
export function identityHandlers(deps: IdentityDeps): IdentityHandlers {
  return {
    getPluginInfo() {
      return Promise.resolve({ name: DRIVER_NAME, vendorVersion: DRIVER_VERSION });
    },
    getPluginCapabilities() {
      const services: PluginCapability_Service_Type[] = [];
      if (deps.controllerServed) services.push(PluginCapability_Service_Type.CONTROLLER_SERVICE);
      if (deps.reportsTopology) {
        services.push(PluginCapability_Service_Type.VOLUME_ACCESSIBILITY_CONSTRAINTS);
      }
      return Promise.resolve({
        capabilities: [
          ...services.map((type) => ({ type: { case: "service" as const, value: { type } } })),
          {
            type: {
              case: "volumeExpansion" as const,
              value: { type: PluginCapability_VolumeExpansion_Type.ONLINE },
            },
          },
        ],
      });
    },
    async probe() {
      const { ready, reasons } = await deps.readiness();
      if (!ready) deps.logger.warn("Not ready: {reasons}", { reasons: reasons.join("; ") });
      return { ready };
    },
  };
}
