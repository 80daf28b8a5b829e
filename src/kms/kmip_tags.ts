/** The KMIP 1.4 tags and enumeration values the client uses (specification, sections 9.1.3). */

/** Tags (section 9.1.3.1). */
export const Tag = {
  attribute: 0x420008,
  attributeName: 0x42000a,
  attributeValue: 0x42000b,
  batchCount: 0x42000d,
  batchItem: 0x42000f,
  cryptographicAlgorithm: 0x420028,
  cryptographicLength: 0x42002a,
  key: 0x42003f,
  keyBlock: 0x420040,
  keyFormatType: 0x420042,
  keyMaterial: 0x420043,
  keyValue: 0x420045,
  name: 0x420053,
  nameType: 0x420054,
  nameValue: 0x420055,
  objectType: 0x420057,
  operation: 0x42005c,
  protocolVersion: 0x420069,
  protocolVersionMajor: 0x42006a,
  protocolVersionMinor: 0x42006b,
  requestHeader: 0x420077,
  requestMessage: 0x420078,
  requestPayload: 0x420079,
  responseHeader: 0x42007a,
  responseMessage: 0x42007b,
  responsePayload: 0x42007c,
  resultMessage: 0x42007d,
  resultReason: 0x42007e,
  resultStatus: 0x42007f,
  revocationReason: 0x420081,
  revocationReasonCode: 0x420082,
  symmetricKey: 0x42008f,
  templateAttribute: 0x420091,
  uniqueIdentifier: 0x420094,
} as const;

/** Operations (section 9.1.3.2.27). */
export const Operation = {
  create: 0x01,
  locate: 0x08,
  get: 0x0a,
  getAttributes: 0x0b,
  activate: 0x12,
  revoke: 0x13,
  destroy: 0x14,
} as const;

/** Enumeration values used in requests. */
export const Enum = {
  objectTypeSymmetricKey: 0x02,
  algorithmAes: 0x03,
  nameTypeText: 0x01,
  resultSuccess: 0x00,
  /** State (section 9.1.3.2.17). */
  statePreActive: 0x01,
  stateActive: 0x02,
  /** Revocation Reason Code (section 9.1.3.2.19): the key is retired, not compromised. */
  revocationCessationOfOperation: 0x06,
} as const;

/** Cryptographic Usage Mask bits: Encrypt | Decrypt. */
export const USAGE_ENCRYPT_DECRYPT = 0x04 | 0x08;

/** Result Reason names (section 9.1.3.2.29), for error messages. */
export const RESULT_REASONS: Record<number, string> = {
  0x01: "Item Not Found",
  0x02: "Response Too Large",
  0x03: "Authentication Not Successful",
  0x04: "Invalid Message",
  0x05: "Operation Not Supported",
  0x06: "Missing Data",
  0x07: "Invalid Field",
  0x08: "Feature Not Supported",
  0x09: "Operation Canceled By Requester",
  0x0a: "Cryptographic Failure",
  0x0b: "Illegal Operation",
  0x0c: "Permission Denied",
  0x0d: "Object archived",
  0x0e: "Index Out of Bounds",
  0x0f: "Application Namespace Not Supported",
  0x10: "Key Format Type Not Supported",
  0x11: "Key Compression Type Not Supported",
  0x100: "General Failure",
};
