/**
 * Gives a domain error the context of the RPC it failed in. The message
 * names the action, the volume ID and the path; grpc/error_status.ts picks
 * the status code from the cause.
 */

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
