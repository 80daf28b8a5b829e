/**
 * Sends grpc-js's own log lines (by default "E ..." text on stderr) to the
 * driver's JSON logger: its errors as warnings, the rest at debug and trace.
 */
import { setLogger } from "@grpc/grpc-js";
import { format } from "node:util";
import type { Logger } from "../log.ts";

/** Routes grpc-js logging into `logger`, for the whole process. */
export function routeGrpcLogs(logger: Logger): void {
  const line = (level: "warn" | "debug" | "trace") => (...args: unknown[]) =>
    logger[level]("grpc-js: {text}", { text: format(...args) });
  setLogger({ error: line("warn"), info: line("debug"), debug: line("trace") });
}
