/**
 * The one wrapper every RPC goes through: request id, lock, handler, error
 * mapping, one log line, metrics. The only catch-all in the driver.
 */
import type {
  handleUnaryCall,
  sendUnaryData,
  ServerErrorResponse,
  ServerUnaryCall,
} from "@grpc/grpc-js";
import { create, type DescMessage, type DescMethodUnary, type Message } from "@bufbuild/protobuf";
import type { Route } from "../driver.ts";
import { codeName } from "../csi/csi_error.ts";
import type { LockTable } from "../locks.ts";
import type { Logger } from "../log.ts";
import type { MetricsHook } from "../metrics.ts";
import { errorStatus } from "./error_status.ts";
import { redactMessage } from "./redact.ts";

/** A redacted copy for the log; a message that cannot be shown never fails the call. */
function loggable(schema: DescMessage, message: Message): unknown {
  try {
    return redactMessage(schema, message);
  } catch (error) {
    return `[unloggable: ${(error as Error).message}]`;
  }
}

/** What the wrapper needs besides the route. */
export interface UnaryDeps {
  readonly logger: Logger;
  readonly locks: LockTable;
  readonly metrics: MetricsHook;
  readonly newRequestId?: () => string;
}

/** Wraps a route's handler as a grpc-js unary handler. */
export function wrapUnary(route: Route, deps: UnaryDeps): handleUnaryCall<Message, Message> {
  const method = route.method as DescMethodUnary;
  const newRequestId = deps.newRequestId ?? (() => crypto.randomUUID().slice(0, 8));
  return async (call: ServerUnaryCall<Message, Message>, callback: sendUnaryData<Message>) => {
    const started = performance.now();
    const requestId = newRequestId();
    const request = call.request;
    const volumeId = (request as { volumeId?: string }).volumeId;
    const context = { requestId, method: method.name, ...(volumeId ? { volumeId } : {}) };
    deps.logger.trace("Request {method}", () => ({
      ...context,
      request: redactMessage(method.input, request),
    }));
    deps.metrics.rpcInFlight(method.name, 1);
    let response: Message | undefined;
    let failure: (ServerErrorResponse & { code: number }) | undefined;
    let lease;
    try {
      lease = deps.locks.acquire(route.lockKeys?.(request) ?? []);
      response = create(method.output, await route.handler(request));
    } catch (error) {
      const status = errorStatus(error, { volumeId });
      failure = Object.assign(new Error(status.message), {
        code: status.code,
        details: status.message,
      });
      if (status.code === 13) {
        deps.logger.error("Internal error in {method}", {
          ...context,
          stack: (error as Error)?.stack,
        });
      }
    } finally {
      lease?.release();
      deps.metrics.rpcInFlight(method.name, -1);
    }
    const durationMs = Math.round(performance.now() - started);
    const code = codeName(failure?.code ?? 0);
    deps.metrics.rpcDone(method.name, code, durationMs);
    const line = { ...context, code, durationMs, ...(failure ? { error: failure.message } : {}) };
    if (route.logLevel === "info" || (failure && route.logLevel === "debug")) {
      deps.logger.info("{method} {code}", line);
    } else if (route.logLevel === "debug") {
      deps.logger.debug("{method} {code}", line);
    } else {
      deps.logger.trace("{method} {code}", line);
    }
    if (response) {
      deps.logger.trace("Response {method}", () => ({
        ...context,
        response: loggable(method.output, response),
      }));
    }
    callback(failure ?? null, response);
  };
}
