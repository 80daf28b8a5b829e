/**
 * CsiError carries a protocol outcome (a gRPC status code) from a handler to
 * the unary wrapper. Codes are numbered as gRPC numbers them; this file does
 * not import grpc-js.
 */

/** gRPC status codes used by CSI. */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** One of the codes above. */
export type Code = typeof Code[keyof typeof Code];

/** The name of a code, e.g. "NOT_FOUND". */
export function codeName(code: number): string {
  return Object.entries(Code).find(([, value]) => value === code)?.[0] ?? `CODE_${code}`;
}

/** A handler's answer that is not OK. The message reaches the CO. */
export class CsiError extends Error {
  override name = "CsiError";
  constructor(readonly code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
