/**
 * CSI Controller service. Until dynamic provisioning lands (issue #6) the
 * controller advertises no capability, so every other RPC answers
 * UNIMPLEMENTED.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  ControllerExpandVolumeRequest,
  ControllerExpandVolumeResponseSchema,
  ControllerGetCapabilitiesResponseSchema,
  CreateVolumeRequest,
  CreateVolumeResponseSchema,
  DeleteVolumeRequest,
  DeleteVolumeResponseSchema,
  GetCapacityRequest,
  GetCapacityResponseSchema,
  ValidateVolumeCapabilitiesRequest,
  ValidateVolumeCapabilitiesResponseSchema,
} from "./csi/gen/csi_pb.ts";
import type { Config } from "./config.ts";
import type { CommandRunner } from "./exec/command_runner.ts";
import type { Mounter } from "./mount/mounter.ts";
import type { Logger } from "./log.ts";

/** The Controller handlers, one per RPC. */
export interface ControllerHandlers {
  createVolume(
    r: CreateVolumeRequest,
  ): Promise<MessageInitShape<typeof CreateVolumeResponseSchema>>;
  deleteVolume(
    r: DeleteVolumeRequest,
  ): Promise<MessageInitShape<typeof DeleteVolumeResponseSchema>>;
  controllerExpandVolume(
    r: ControllerExpandVolumeRequest,
  ): Promise<MessageInitShape<typeof ControllerExpandVolumeResponseSchema>>;
  validateVolumeCapabilities(
    r: ValidateVolumeCapabilitiesRequest,
  ): Promise<MessageInitShape<typeof ValidateVolumeCapabilitiesResponseSchema>>;
  controllerGetCapabilities(): Promise<
    MessageInitShape<typeof ControllerGetCapabilitiesResponseSchema>
  >;
  getCapacity(r: GetCapacityRequest): Promise<MessageInitShape<typeof GetCapacityResponseSchema>>;
}

/** What the Controller handlers depend on. */
export interface ControllerDeps {
  readonly config: Config;
  readonly runner: CommandRunner;
  readonly mounter: Mounter;
  readonly logger: Logger;
}

/** Builds the Controller handlers served so far. */
export function controllerHandlers(_deps: ControllerDeps): Partial<ControllerHandlers> {
  return {
    controllerGetCapabilities() {
      return Promise.resolve({ capabilities: [] });
    },
  };
}
