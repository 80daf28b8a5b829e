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
  /** Properties may be a function, called only when trace is logged (for costly ones). */
  trace(
    message: string,
    properties?: Record<string, unknown> | (() => Record<string, unknown>),
  ): void;
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
    sinks: { json: (record: LogRecord) => write(formatter(withRenderedMessage(record))) },
    loggers: [
      { category: ["klustre-csi"], lowestLevel: level, sinks: ["json"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: ["json"] },
    ],
  });
  return getLogger(["klustre-csi"]);
}

/**
 * The record with its message rendered (strings as they are, other values as
 * JSON) in place of the template, which moves to the `template` field.
 */
export function withRenderedMessage(record: LogRecord): LogRecord {
  const template = typeof record.rawMessage === "string"
    ? record.rawMessage
    : record.rawMessage.join("{}");
  const rendered = record.message.map((part, i) => i % 2 === 0 ? part : renderValue(part)).join("");
  if (rendered === template) return record;
  return { ...record, rawMessage: rendered, properties: { ...record.properties, template } };
}

function renderValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.message;
  if (value === undefined || typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
