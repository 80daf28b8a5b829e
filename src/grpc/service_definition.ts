/** Turns a generated CSI service descriptor into a grpc-js service definition. */
import type { ServiceDefinition } from "@grpc/grpc-js";
import { type DescService, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Buffer } from "node:buffer";

/** grpc-js definition keyed by RPC name (e.g. "NodeStageVolume"), protobuf-es codecs. */
export function serviceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, ServiceDefinition[string]> = {};
  for (const method of service.methods) {
    definition[method.name] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      originalName: method.localName,
      requestSerialize: (message) => Buffer.from(toBinary(method.input, message)),
      requestDeserialize: (bytes: Buffer) => fromBinary(method.input, bytes),
      responseSerialize: (message) => Buffer.from(toBinary(method.output, message)),
      responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
    };
  }
  return definition as ServiceDefinition;
}
