/**
 * What the HTTP endpoint answers: `/metrics` in the Prometheus text format
 * and `/healthz`, which is 200 exactly when Probe says ready.
 */
import type { Logger } from "../log.ts";
import type { Readiness } from "../identity_server.ts";
import { EXPOSITION_CONTENT_TYPE } from "../metrics/prom.ts";

/** What the routes read. */
export interface HttpRouteDeps {
  /** The text exposition of every metric. */
  readonly scrape: () => Promise<string>;
  /** The same readiness Probe answers from: the driver serves. */
  readonly readiness: () => Promise<Readiness>;
  readonly logger: Logger;
}

const TEXT = "text/plain; charset=utf-8";

/** Answers one request; never throws. */
export async function handleHttpRequest(request: Request, deps: HttpRouteDeps): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (path !== "/metrics" && path !== "/healthz") {
    return text(404, `Not found: "${path}"; try /metrics or /healthz\n`);
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response(`Method ${request.method} is not allowed\n`, {
      status: 405,
      headers: { "content-type": TEXT, allow: "GET, HEAD" },
    });
  }
  try {
    if (path === "/metrics") {
      return new Response(await deps.scrape(), {
        headers: { "content-type": EXPOSITION_CONTENT_TYPE },
      });
    }
    const { ready, reasons } = await deps.readiness();
    if (ready) return text(200, "ok\n");
    return text(503, `not ready:\n${reasons.map((r) => `- ${r}\n`).join("")}`);
  } catch (error) {
    deps.logger.error("Cannot answer {path}: {error}", {
      path,
      error: (error as Error)?.message,
      stack: (error as Error)?.stack,
    });
    return text(500, `Cannot answer ${path}: ${(error as Error)?.message}\n`);
  }
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": TEXT } });
}
