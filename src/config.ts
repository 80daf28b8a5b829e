/**
 * Resolves the driver's configuration: flags over environment over the
 * settings YAML file over defaults. Every value is validated here, so the
 * rest of the code never sees a bad one.
 */
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { type Setting, type SettingKey, SETTINGS } from "./settings.ts";
import { parseMountOptionList } from "./lustre/mount_options.ts";

/** Log levels a user may choose. */
export const LOG_LEVELS = ["trace", "debug", "info", "warning", "error"] as const;
export type LogLevel = typeof LOG_LEVELS[number];

/** Which CSI services a process serves. */
export type Mode = "node" | "controller";

/** The resolved, frozen configuration. */
export interface Config {
  readonly mode: Mode;
  readonly endpoint: string;
  /** Filesystem path of the unix socket, from `endpoint`. */
  readonly socketPath: string;
  readonly nodeId: string;
  readonly logLevel: LogLevel;
  readonly kubeletDir: string;
  readonly stateDir: string;
  readonly pathEnv: string;
  readonly ldLibraryPath: string;
  /** "auto", "none" or the path of the host's dynamic loader. */
  readonly hostLoader: string;
  readonly mountTimeoutMs: number;
  readonly unmountTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly probeTimeoutMs: number;
  readonly probeCacheMs: number;
  readonly shutdownGraceMs: number;
  readonly defaultMountOptions: readonly string[];
  readonly metricsAddress: string;
  /** The deployment runs a controller: GetPluginCapabilities lists CONTROLLER_SERVICE. */
  readonly controllerService: boolean;
  /** Volumes may ask for suid/dev binds (pods get nosuid,nodev otherwise). */
  readonly allowSuidDevVolumes: boolean;
  /** nsfs file of the host's mount namespace; "" keeps shared mounts in the driver's own. */
  readonly hostMountNamespace: string;
  readonly hangProbeMs: number;
  /** The settings file read, if any. */
  readonly settingsFile: string;
  /** The host's mountinfo file ("" when not read). */
  readonly hostMountInfo: string;
}

/** A configuration the driver must not start with. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Where the settings file path can come from. */
export const SETTINGS_FLAG = "settings";
export const SETTINGS_ENV = "KLUSTRE_SETTINGS";

/** What parseConfig needs from the outside world. */
export interface ConfigSources {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads the settings file; throws Deno.errors.NotFound when absent. */
  readonly readTextFile: (path: string) => string;
}

const MAX_DURATION_MS = 24 * 3600 * 1000;
/** Kubelet gives up on a CSI call after 2 minutes; a mount must fail before that. */
export const KUBELET_DEADLINE_MS = 120_000;
const MAX_NODE_ID_BYTES = 256;

/**
 * Builds the Config for one mode from argv (after the subcommand).
 * @throws ConfigError naming the setting and the bad value
 */
export function parseConfig(mode: Mode, args: readonly string[], sources: ConfigSources): Config {
  const flags = parseFlags(args);
  const settingsFile = flags[SETTINGS_FLAG] ?? sources.env[SETTINGS_ENV] ?? "";
  const fromFile = settingsFile ? readSettingsFile(settingsFile, sources) : {};
  const raw = {} as Record<SettingKey, { text: string; origin: string }>;
  for (const setting of SETTINGS) {
    raw[setting.key] = pick(setting, flags, sources.env, fromFile, settingsFile);
  }
  const value = <K extends SettingKey>(key: K) => raw[key];
  const endpoint = requireEndpoint(value("endpoint"));
  const nodeId = value("nodeId").text;
  if (mode === "node" && nodeId === "") {
    throw new ConfigError(
      'Missing setting "nodeId": pass --node-id or set KUBE_NODE_NAME (the node\'s name)',
    );
  }
  if (new TextEncoder().encode(nodeId).length > MAX_NODE_ID_BYTES) {
    throw invalid("nodeId", value("nodeId"), `is longer than ${MAX_NODE_ID_BYTES} bytes`);
  }
  return Object.freeze({
    mode,
    endpoint: endpoint.endpoint,
    socketPath: endpoint.socketPath,
    nodeId,
    logLevel: requireLevel(value("logLevel")),
    kubeletDir: requirePath("kubeletDir", value("kubeletDir")),
    stateDir: requirePath("stateDir", value("stateDir")),
    pathEnv: value("pathEnv").text,
    ldLibraryPath: value("ldLibraryPath").text,
    hostLoader: requireLoader(value("hostLoader")),
    mountTimeoutMs: requireMountTimeout(value("mountTimeoutMs")),
    unmountTimeoutMs: requireDuration("unmountTimeoutMs", value("unmountTimeoutMs")),
    commandTimeoutMs: requireDuration("commandTimeoutMs", value("commandTimeoutMs")),
    probeTimeoutMs: requireDuration("probeTimeoutMs", value("probeTimeoutMs")),
    probeCacheMs: requireDuration("probeCacheMs", value("probeCacheMs"), 0),
    shutdownGraceMs: requireDuration("shutdownGraceMs", value("shutdownGraceMs")),
    defaultMountOptions: Object.freeze(requireOptions(value("defaultMountOptions"))),
    metricsAddress: requireAddress(value("metricsAddress")),
    controllerService: requireBoolean("controllerService", value("controllerService")),
    allowSuidDevVolumes: requireBoolean("allowSuidDevVolumes", value("allowSuidDevVolumes")),
    hostMountNamespace: value("hostMountNamespace").text === ""
      ? ""
      : requirePath("hostMountNamespace", value("hostMountNamespace")),
    hangProbeMs: requireDuration("hangProbeMs", value("hangProbeMs")),
    settingsFile,
    hostMountInfo: requireOptionalPath("hostMountInfo", value("hostMountInfo")),
  });
}

/** parseArgs option table for every setting plus --settings. */
export function settingFlagOptions(): Record<string, { type: "string" }> {
  const options: Record<string, { type: "string" }> = { [SETTINGS_FLAG]: { type: "string" } };
  for (const setting of SETTINGS) options[setting.flag] = { type: "string" };
  return options;
}

function parseFlags(args: readonly string[]): Record<string, string | undefined> {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: settingFlagOptions(),
      strict: true,
      allowPositionals: false,
    });
    return values as Record<string, string | undefined>;
  } catch (error) {
    throw new ConfigError(`Cannot parse flags: ${(error as Error).message}`, { cause: error });
  }
}

function readSettingsFile(path: string, sources: ConfigSources): Record<string, unknown> {
  let text: string;
  try {
    text = sources.readTextFile(path);
  } catch (error) {
    throw new ConfigError(`Cannot read settings file "${path}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`Cannot parse settings file "${path}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigError(`Cannot use settings file "${path}": it is not a map of settings`);
  }
  const known = new Set<string>(SETTINGS.map((s) => s.key));
  for (const key of Object.keys(parsed)) {
    if (!known.has(key)) {
      throw new ConfigError(
        `Unknown setting "${key}" in "${path}": known settings are ${[...known].join(", ")}`,
      );
    }
  }
  return parsed as Record<string, unknown>;
}

function pick(
  setting: Setting,
  flags: Record<string, string | undefined>,
  env: ConfigSources["env"],
  fromFile: Record<string, unknown>,
  settingsFile: string,
): { text: string; origin: string } {
  const flag = flags[setting.flag];
  if (flag !== undefined) return { text: flag, origin: `flag --${setting.flag}` };
  for (const name of setting.env) {
    const value = env[name];
    if (value !== undefined && value !== "") return { text: value, origin: `environment ${name}` };
  }
  if (setting.key in fromFile) {
    return {
      text: fileValueText(setting, fromFile[setting.key], settingsFile),
      origin: settingsFile,
    };
  }
  return { text: setting.defaultValue, origin: "default" };
}

function fileValueText(setting: Setting, value: unknown, settingsFile: string): string {
  if (setting.kind === "options" && Array.isArray(value)) return value.map(String).join(",");
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  throw new ConfigError(
    `Invalid setting "${setting.key}" in "${settingsFile}": ${JSON.stringify(value)} is not a ${
      setting.kind === "duration" ? "number" : setting.kind === "boolean" ? "boolean" : "string"
    }`,
  );
}

function invalid(key: SettingKey, raw: { text: string; origin: string }, reason: string) {
  return new ConfigError(`Invalid setting "${key}" (${raw.origin}): "${raw.text}" ${reason}`);
}

function requireEndpoint(raw: { text: string; origin: string }) {
  const match = /^unix:\/\/(\/.*)$/.exec(raw.text) ?? /^unix:(\/[^/].*)$/.exec(raw.text);
  if (!match || match[1].endsWith("/")) {
    throw invalid("endpoint", raw, "is not a unix socket address like unix:///csi/csi.sock");
  }
  return { endpoint: `unix://${match[1]}`, socketPath: match[1] };
}

function requireLevel(raw: { text: string; origin: string }): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(raw.text)) return raw.text as LogLevel;
  throw invalid("logLevel", raw, `is not one of ${LOG_LEVELS.join(", ")}`);
}

function requirePath(key: SettingKey, raw: { text: string; origin: string }): string {
  if (!raw.text.startsWith("/") || raw.text.split("/").includes("..")) {
    throw invalid(key, raw, "is not an absolute path");
  }
  return raw.text.length > 1 ? raw.text.replace(/\/+$/, "") : raw.text;
}

function requireDuration(key: SettingKey, raw: { text: string; origin: string }, min = 1): number {
  const value = /^\d+$/.test(raw.text) ? Number(raw.text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > MAX_DURATION_MS) {
    throw invalid(
      key,
      raw,
      `is not a whole number of milliseconds from ${min} to ${MAX_DURATION_MS}`,
    );
  }
  return value;
}

/** A mount that outlives kubelet's deadline is retried while still running: refuse it. */
function requireMountTimeout(raw: { text: string; origin: string }): number {
  const value = requireDuration("mountTimeoutMs", raw);
  if (value >= KUBELET_DEADLINE_MS) {
    throw invalid(
      "mountTimeoutMs",
      raw,
      `is not below kubelet's ${KUBELET_DEADLINE_MS} ms (2 minute) deadline for a CSI call: ` +
        "kubelet would give up and retry while mount.lustre still runs; use at most " +
        `${KUBELET_DEADLINE_MS - 1}`,
    );
  }
  return value;
}

function requireOptions(raw: { text: string; origin: string }): string[] {
  try {
    return parseMountOptionList(raw.text);
  } catch (error) {
    throw invalid("defaultMountOptions", raw, `is refused: ${(error as Error).message}`);
  }
}

function requireLoader(raw: { text: string; origin: string }): string {
  if (raw.text === "auto" || raw.text === "none" || raw.text.startsWith("/")) return raw.text;
  throw invalid("hostLoader", raw, 'is not "auto", "none" or an absolute path');
}

function requireAddress(raw: { text: string; origin: string }): string {
  if (raw.text === "") return "";
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(raw.text);
  if (!match || Number(match[2]) > 65535) {
    throw invalid("metricsAddress", raw, "is not HOST:PORT (for example 0.0.0.0:9810)");
  }
  return raw.text;
}

function requireBoolean(key: SettingKey, raw: { text: string; origin: string }): boolean {
  if (raw.text === "true" || raw.text === "false") return raw.text === "true";
  throw invalid(key, raw, 'is not "true" or "false"');
}

function requireOptionalPath(key: SettingKey, raw: { text: string; origin: string }): string {
  return raw.text === "" ? "" : requirePath(key, raw);
}
