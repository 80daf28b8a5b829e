/**
 * Structured logging: JSON lines on stderr through LogTape. Code receives a
 * Logger in its deps and never configures logging itself.
 */
import {
  configureSync,
  getJsonLinesFormatter,
  getLogger,
  type LogRecord,
  resetSync,
} from "@logtape/logtape";
import type { LogLevel } from "./config.ts";

/** The logging methods the driver uses; LogTape's Logger satisfies it. */
export interface Logger {
  trace(message: string, properties?: Record<string, unknown>): void;
  debug(message: string, properties?: Record<string, unknown>): void;
  info(message: string, properties?: Record<string, unknown>): void;
  warn(message: string, properties?: Record<string, unknown>): void;
  error(message: string, properties?: Record<string, unknown>): void;
}

const encoder = new TextEncoder();

/**
 * Configures LogTape once for the process and returns the driver's logger.
 * `write` receives each JSON line; it defaults to stderr.
 */
export function setupLogging(
  level: LogLevel,
  write: (line: string) => void = (line) => Deno.stderr.writeSync(encoder.encode(line)),
): Logger {
  resetSync();
  const formatter = getJsonLinesFormatter({ properties: "flatten", message: "template" });
  configureSync({
    sinks: { json: (record: LogRecord) => write(formatter(record)) },
    loggers: [
      { category: ["klustre-csi"], lowestLevel: level, sinks: ["json"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: ["json"] },
    ],
  });
  return getLogger(["klustre-csi"]);
}
