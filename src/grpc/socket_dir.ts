/** The directory of the CSI socket: created when missing, as kubelet's plugin dir would be. */
import { dirname } from "node:path";

/** Mode of a socket directory the driver creates: the owner and its group (kubelet, sidecars). */
export const SOCKET_DIR_MODE = 0o750;

/**
 * Creates the directory of `socketPath` (and its parents) when missing.
 * @throws Error naming the directory and the reason
 */
export async function ensureSocketDir(socketPath: string): Promise<void> {
  const dir = dirname(socketPath);
  try {
    await Deno.mkdir(dir, { recursive: true, mode: SOCKET_DIR_MODE });
  } catch (error) {
    throw new Error(
      `Cannot create the socket's directory "${dir}": ${(error as Error).message}`,
      { cause: error },
    );
  }
}
