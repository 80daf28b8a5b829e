/**
 * Gives a domain error the context of the RPC it failed in. The message
 * names the action, the volume ID and the path; grpc/error_status.ts picks
 * the status code from the cause.
 */

import { CsiError } from "./csi_error.ts";

/** A failure of one volume operation, caused by a domain error. */
export class OperationError extends Error {
  override name = "OperationError";
  constructor(
    readonly action: string,
    readonly volumeId: string,
    readonly path: string,
    cause: unknown,
  ) {
    super(
      `Cannot ${action} volume "${volumeId}" at "${path}": ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
  }
}

/**
 * Runs one volume operation: a CsiError passes through as the handler's
 * answer, any other error is wrapped with the call's context.
 * @throws CsiError, OperationError
 */
export async function runOperation<T>(
  context: { readonly action: string; readonly volumeId: string },
  path: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CsiError) throw error;
    throw new OperationError(context.action, context.volumeId, path, error);
  }
}
