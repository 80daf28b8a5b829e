/**
 * Serves the route table on a unix socket. Removes a stale socket at start,
 * restricts the socket to owner and group, and shuts down gracefully.
 */
import { Server, ServerCredentials, type UntypedServiceImplementation } from "@grpc/grpc-js";
import type { DescService } from "@bufbuild/protobuf";
import type { Route } from "../driver.ts";
import { serviceDefinition } from "./service_definition.ts";
import { type UnaryDeps, wrapUnary } from "./unary.ts";
import { ensureSocketDir } from "./socket_dir.ts";

/** A running server. */
export interface RunningServer {
  /** Stops accepting, waits up to graceMs for in-flight calls, removes the socket. */
  shutdown(graceMs: number): Promise<void>;
}

/** Socket mode: owner and group may connect (kubelet and sidecars run as root). */
const SOCKET_MODE = 0o660;

/**
 * Starts serving `routes` on `socketPath` (its directory is created, mode
 * 0750, when missing); every listed service is registered whole, so RPCs
 * without a route answer UNIMPLEMENTED.
 * @throws Error when the directory cannot be made, the path exists and is not a socket, or bind fails
 */
export async function startServer(
  socketPath: string,
  routes: readonly Route[],
  deps: UnaryDeps,
): Promise<RunningServer> {
  await ensureSocketDir(socketPath);
  await removeStaleSocket(socketPath);
  // Channelz (per-call tracking for a debug service the driver does not serve) off: -20 % CPU a call.
  const server = new Server({
    "grpc.max_receive_message_length": 4 * 1024 * 1024,
    "grpc.enable_channelz": 0,
  });
  const byService = new Map<DescService, UntypedServiceImplementation>();
  for (const route of routes) {
    const implementation = byService.get(route.service) ?? {};
    implementation[route.method.name] = wrapUnary(route, deps);
    byService.set(route.service, implementation);
  }
  for (const [service, implementation] of byService) {
    server.addService(serviceDefinition(service), implementation);
  }
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socketPath}`, ServerCredentials.createInsecure(), (error) => {
      if (error) reject(new Error(`Cannot listen on "${socketPath}": ${error.message}`));
      else resolve();
    });
  });
  await Deno.chmod(socketPath, SOCKET_MODE);
  return {
    async shutdown(graceMs: number) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const graceful = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      const expired = new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs));
      await Promise.race([graceful, expired]);
      clearTimeout(timer);
      server.forceShutdown();
      await removeStaleSocket(socketPath);
    },
  };
}

/** Removes a leftover socket; refuses to delete anything that is not one. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(socketPath);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (!info.isSocket) {
    throw new Error(`Cannot listen on "${socketPath}": it exists and is not a socket`);
  }
  await Deno.remove(socketPath);
}
