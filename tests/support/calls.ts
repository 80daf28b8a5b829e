/** Helpers to read the outcome of a CSI call in tests. */
import { Code } from "../../src/csi/csi_error.ts";
import { CallError } from "../../src/grpc/client.ts";

/** The gRPC status code a call ends with (0 for OK). */
export async function statusCode(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return Code.OK;
  } catch (error) {
    if (error instanceof CallError) return error.code;
    throw error;
  }
}

/** The error text a call ends with ("CODE: details"), "" when it succeeds. */
export async function errorMessage(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "";
  } catch (error) {
    return (error as Error).message;
  }
}
