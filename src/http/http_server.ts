/** Serves the HTTP routes (metrics and health) on `HOST:PORT` with Deno.serve. */
import { handleHttpRequest, type HttpRouteDeps } from "./http_routes.ts";

/** A running HTTP endpoint. */
export interface HttpEndpoint {
  /** The address actually bound (the port is resolved when 0 was asked for). */
  readonly hostname: string;
  readonly port: number;
  /** Stops accepting, lets running requests finish. */
  shutdown(): Promise<void>;
}

/**
 * Splits `HOST:PORT` (`[::1]:9810`, `0.0.0.0:9810`, `:9810` for every address).
 * @throws SyntaxError for anything else
 */
export function parseListenAddress(address: string): { hostname: string; port: number } {
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(address);
  if (!match || Number(match[2]) > 65535) {
    throw new SyntaxError(`"${address}" is not HOST:PORT (for example 0.0.0.0:9810)`);
  }
  const host = match[1].replace(/^\[(.*)\]$/, "$1");
  return { hostname: host === "" ? "0.0.0.0" : host, port: Number(match[2]) };
}

/**
 * Starts serving; resolves once the socket listens.
 * @throws Deno.errors.AddrInUse and other bind errors
 */
export function startHttpServer(address: string, deps: HttpRouteDeps): Promise<HttpEndpoint> {
  const { hostname, port } = parseListenAddress(address);
  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({
        hostname,
        port,
        onListen: (addr) => {
          resolve({
            hostname: addr.hostname,
            port: addr.port,
            shutdown: () => server.shutdown(),
          });
        },
        onError: (error) => {
          deps.logger.error("HTTP request failed: {error}", { error: (error as Error)?.message });
          return new Response("Internal error\n", { status: 500 });
        },
      }, (request) => handleHttpRequest(request, deps));
    } catch (error) {
      reject(error);
    }
  });
}
