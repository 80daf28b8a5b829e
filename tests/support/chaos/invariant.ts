/** A broken campaign invariant: what was expected and what the node did. */
export class InvariantError extends Error {
  override name = "InvariantError";
}

/** Throws an InvariantError with `message` unless `ok`. */
export function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new InvariantError(message);
}
