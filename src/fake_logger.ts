/** A Logger that keeps records in memory, for tests. */
import type { Logger } from "./log.ts";

/** One recorded log call. */
export interface LogEntry {
  level: "trace" | "debug" | "info" | "warn" | "error";
  message: string;
  properties: Record<string, unknown>;
}

/** Records every call; `text()` gives everything as one string to search. */
export class FakeLogger implements Logger {
  readonly entries: LogEntry[] = [];
  trace(message: string, properties: Record<string, unknown> = {}) {
    this.entries.push({ level: "trace", message, properties });
  }
  debug(message: string, properties: Record<string, unknown> = {}) {
    this.entries.push({ level: "debug", message, properties });
  }
  info(message: string, properties: Record<string, unknown> = {}) {
    this.entries.push({ level: "info", message, properties });
  }
  warn(message: string, properties: Record<string, unknown> = {}) {
    this.entries.push({ level: "warn", message, properties });
  }
  error(message: string, properties: Record<string, unknown> = {}) {
    this.entries.push({ level: "error", message, properties });
  }
  /** All entries serialised, for "never appears in the log" assertions. */
  text(): string {
    return this.entries.map((e) => JSON.stringify(e)).join("\n");
  }
}
