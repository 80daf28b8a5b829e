/**
 * Field checks of the inventory (inventory.ts): each adds a problem naming
 * the entry and the field, and returns the value only when it is good.
 */
import { parseMountOptionList } from "../lustre/mount_options.ts";
import { parseQuantity } from "./quantity.ts";

/** PersistentVolume access modes; the driver serves all of them. */
export const ACCESS_MODES = [
  "ReadWriteMany",
  "ReadOnlyMany",
  "ReadWriteOnce",
  "ReadWriteOncePod",
] as const;
export type AccessMode = typeof ACCESS_MODES[number];

/** An entry as YAML gave it. */
export type Raw = Record<string, unknown>;

/** Collects problems for one entry: `volumes[2] "alpha": capacity: ...`. */
export class Problems {
  readonly list: string[] = [];
  add(where: string, field: string, message: string): void {
    this.list.push(`${where}: ${field ? `${field}: ` : ""}${message}`);
  }
}

/** `capacity`: a Kubernetes quantity of at least one byte. */
export function checkCapacity(raw: Raw, where: string, problems: Problems): string | undefined {
  const value = raw.capacity;
  if (value === undefined) {
    problems.add(where, "capacity", "is required (e.g. 10Ti)");
    return undefined;
  }
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string") {
    problems.add(where, "capacity", `${show(value)} is not a quantity like 500Gi`);
    return undefined;
  }
  const bytes = parseWith(() => parseQuantity(text), where, "capacity", text, problems);
  if (bytes !== undefined && !(bytes >= 1)) {
    problems.add(where, "capacity", `"${text}" is less than one byte`);
    return undefined;
  }
  return bytes === undefined ? undefined : text;
}

/** `accessModes`: known modes, none twice (default ReadWriteMany). */
export function checkAccessModes(
  raw: Raw,
  where: string,
  problems: Problems,
): AccessMode[] | undefined {
  const value = raw.accessModes ?? ["ReadWriteMany"];
  if (!Array.isArray(value) || value.length === 0) {
    problems.add(where, "accessModes", `${show(value)} is not a non-empty list`);
    return undefined;
  }
  const modes: AccessMode[] = [];
  for (const mode of value) {
    if (!(ACCESS_MODES as readonly unknown[]).includes(mode)) {
      problems.add(where, "accessModes", `${show(mode)} is not one of ${ACCESS_MODES.join(", ")}`);
      return undefined;
    }
    if (modes.includes(mode)) {
      problems.add(where, "accessModes", `"${mode}" is listed twice`);
      return undefined;
    }
    modes.push(mode);
  }
  return modes;
}

/** `mountOptions` as a comma list or a YAML list; checked against the driver's allow-list. */
export function checkMountOptions(
  raw: Raw,
  where: string,
  problems: Problems,
): string[] | undefined {
  const value = raw.mountOptions;
  if (value === undefined) return [];
  const text = Array.isArray(value) && value.every((o) => typeof o === "string")
    ? value.join(",")
    : value;
  if (typeof text !== "string") {
    problems.add(where, "mountOptions", `${show(value)} is not a list of options`);
    return undefined;
  }
  return parseWith(() => parseMountOptionList(text), where, "mountOptions", text, problems);
}

/** Runs a parser; its error becomes a problem of `field`. */
export function parseWith<T>(
  parse: () => T,
  where: string,
  field: string,
  text: string,
  problems: Problems,
): T | undefined {
  try {
    return parse();
  } catch (error) {
    const message = (error as Error).message;
    problems.add(where, field, message.startsWith(`"${text}"`) ? message : `"${text}": ${message}`);
    return undefined;
  }
}

/** A required string field. */
export function requireString(raw: Raw, key: string, where: string, problems: Problems) {
  if (raw[key] === undefined) {
    problems.add(where, key, "is required");
    return undefined;
  }
  return optionalString(raw, key, where, problems);
}

/** An optional string field. */
export function optionalString(raw: Raw, key: string, where: string, problems: Problems) {
  const value = raw[key];
  if (value === undefined || typeof value === "string") return value;
  problems.add(where, key, `${show(value)} is not a string`);
  return undefined;
}

/** A required top-level list. */
export function listOf(top: Raw, key: string, problems: Problems): unknown[] {
  const value = top[key];
  if (Array.isArray(value)) return value;
  problems.add(key, "", value === undefined ? "is required (a list)" : "is not a list");
  return [];
}

/** A problem per field the entry should not have (typos). */
export function unknownKeys(raw: Raw, known: readonly string[], where: string, problems: Problems) {
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) {
      problems.add(where, key, `is not a known field (known: ${known.join(", ")})`);
    }
  }
}

/** A YAML map (not a list, not a scalar). */
export function isMap(value: unknown): value is Raw {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A value for a message. */
export function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}
