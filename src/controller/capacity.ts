/** The capacity a CreateVolume or ControllerExpandVolume request asks for. */
import { Code, CsiError } from "../csi/csi_error.ts";
import { invalidArgument } from "../csi/requests.ts";
import { roundCapacity } from "./lustre_tools.ts";

/** A request's capacity range, as CreateVolume and ControllerExpandVolume carry it. */
export interface CapacityRequest {
  readonly capacityRange?: { readonly requiredBytes: bigint; readonly limitBytes: bigint };
}

/**
 * The bytes to give volume `id`: the required bytes (else the limit)
 * rounded up to whole KiB; 0 when the request names neither.
 * @throws CsiError INVALID_ARGUMENT for a negative capacity, OUT_OF_RANGE past the limit
 */
export function capacityOf(r: CapacityRequest, id: string): number {
  const required = Number(r.capacityRange?.requiredBytes ?? 0n);
  const limit = Number(r.capacityRange?.limitBytes ?? 0n);
  if (required < 0 || limit < 0) {
    throw invalidArgument({ action: "size", volumeId: id }, "capacity is negative");
  }
  const bytes = roundCapacity(required > 0 ? required : limit);
  if (limit > 0 && bytes > limit) {
    throw new CsiError(
      Code.OUT_OF_RANGE,
      `Cannot size volume "${id}": ${required} bytes rounded to whole KiB (${bytes}) exceed the limit of ${limit} bytes`,
    );
  }
  return bytes;
}
