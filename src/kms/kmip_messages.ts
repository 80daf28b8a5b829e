/**
 * KMIP 1.4 request and response messages for the operations the driver needs
 * (Create, Activate, Locate, Get, Get Attributes of State, Revoke, Destroy),
 * one batch item per message.
 */
import { Enum, Operation, RESULT_REASONS, Tag, USAGE_ENCRYPT_DECRYPT } from "./kmip_tags.ts";
import { child, children, decodeTtlv, encodeTtlv, type Ttlv } from "./ttlv.ts";

/** The server answered an operation with a failure. */
export class KmipError extends Error {
  override name = "KmipError";
  constructor(
    readonly operation: string,
    readonly reason: string,
    readonly serverMessage: string,
  ) {
    super(`KMIP ${operation} failed: ${reason}${serverMessage ? `: ${serverMessage}` : ""}`);
  }
}

const struct = (tag: number, value: Ttlv[]): Ttlv => ({ tag, type: "structure", value });
const text = (tag: number, value: string): Ttlv => ({ tag, type: "textString", value });
const int = (tag: number, value: number): Ttlv => ({ tag, type: "integer", value });
const enumeration = (tag: number, value: number): Ttlv => ({ tag, type: "enumeration", value });

function attribute(name: string, value: Ttlv): Ttlv {
  return struct(Tag.attribute, [text(Tag.attributeName, name), {
    ...value,
    tag: Tag.attributeValue,
  }]);
}

function nameAttribute(name: string): Ttlv {
  return attribute(
    "Name",
    struct(0, [text(Tag.nameValue, name), enumeration(Tag.nameType, Enum.nameTypeText)]),
  );
}

/** A request message of one batch item. */
export function encodeRequest(operation: number, payload: Ttlv[]): Uint8Array {
  return encodeTtlv(struct(Tag.requestMessage, [
    struct(Tag.requestHeader, [
      struct(Tag.protocolVersion, [
        int(Tag.protocolVersionMajor, 1),
        int(Tag.protocolVersionMinor, 4),
      ]),
      int(Tag.batchCount, 1),
    ]),
    struct(Tag.batchItem, [
      enumeration(Tag.operation, operation),
      struct(Tag.requestPayload, payload),
    ]),
  ]));
}

/** Create: an AES-256 symmetric key for encryption, named `name`. */
export function createRequest(name: string): Uint8Array {
  return encodeRequest(Operation.create, [
    enumeration(Tag.objectType, Enum.objectTypeSymmetricKey),
    struct(Tag.templateAttribute, [
      attribute("Cryptographic Algorithm", enumeration(0, Enum.algorithmAes)),
      attribute("Cryptographic Length", int(0, 256)),
      attribute("Cryptographic Usage Mask", int(0, USAGE_ENCRYPT_DECRYPT)),
      nameAttribute(name),
    ]),
  ]);
}

/** Locate: the symmetric keys named `name`. */
export function locateRequest(name: string): Uint8Array {
  return encodeRequest(Operation.locate, [
    attribute("Object Type", enumeration(0, Enum.objectTypeSymmetricKey)),
    nameAttribute(name),
  ]);
}

/** Get, Activate or Destroy of the object `id`. */
export function objectRequest(operation: "get" | "activate" | "destroy", id: string): Uint8Array {
  return encodeRequest(Operation[operation], [text(Tag.uniqueIdentifier, id)]);
}

/** Get Attributes: the State of the object `id`. */
export function stateRequest(id: string): Uint8Array {
  return encodeRequest(Operation.getAttributes, [
    text(Tag.uniqueIdentifier, id),
    text(Tag.attributeName, "State"),
  ]);
}

/**
 * The State (an enumeration value) in a Get Attributes response.
 * @throws KmipError when the payload holds no State attribute
 */
export function stateOf(payload: Ttlv | undefined): number {
  for (const attribute of children(payload, Tag.attribute)) {
    const name = child(attribute, Tag.attributeName);
    const value = child(attribute, Tag.attributeValue);
    if (name?.type === "textString" && name.value === "State" && value?.type === "enumeration") {
      return value.value;
    }
  }
  throw new KmipError("Get Attributes", "Invalid Message", "the response holds no State");
}

/** Revoke of the object `id` because it is no longer used (Cessation of Operation): Deactivated. */
export function revokeRequest(id: string): Uint8Array {
  return encodeRequest(Operation.revoke, [
    text(Tag.uniqueIdentifier, id),
    struct(Tag.revocationReason, [
      enumeration(Tag.revocationReasonCode, Enum.revocationCessationOfOperation),
    ]),
  ]);
}

/**
 * The payload of a response message of one batch item.
 * @throws KmipError when the server answered a failure; TtlvError on bad bytes
 */
export function decodeResponse(bytes: Uint8Array, operation: string): Ttlv | undefined {
  const [message] = decodeTtlv(bytes);
  if (message?.tag !== Tag.responseMessage) {
    throw new KmipError(operation, "Invalid Message", "the answer is no KMIP response message");
  }
  const item = child(message, Tag.batchItem);
  const status = child(item, Tag.resultStatus);
  if (status?.type !== "enumeration") {
    throw new KmipError(operation, "Invalid Message", "the response has no result status");
  }
  if (status.value !== Enum.resultSuccess) {
    const reason = child(item, Tag.resultReason);
    const message = child(item, Tag.resultMessage);
    const reasonText = reason?.type === "enumeration"
      ? RESULT_REASONS[reason.value] ?? `reason ${reason.value}`
      : `status ${status.value}`;
    throw new KmipError(operation, reasonText, message?.type === "textString" ? message.value : "");
  }
  return child(item, Tag.responsePayload);
}

/** The Unique Identifiers in a payload. */
export function identifiers(payload: Ttlv | undefined): string[] {
  return children(payload, Tag.uniqueIdentifier).flatMap((c) =>
    c.type === "textString" ? [c.value] : []
  );
}

/**
 * The key bytes of a Get response's symmetric key (Raw or Transparent Symmetric Key format).
 * @throws KmipError when the payload holds no symmetric key material
 */
export function keyMaterial(payload: Ttlv | undefined): Uint8Array {
  const keyValue = child(child(child(payload, Tag.symmetricKey), Tag.keyBlock), Tag.keyValue);
  const material = child(keyValue, Tag.keyMaterial);
  const raw = material?.type === "structure" ? child(material, Tag.key) : material;
  if (raw?.type !== "byteString") {
    throw new KmipError("Get", "Invalid Message", "the response holds no symmetric key material");
  }
  return raw.value;
}
