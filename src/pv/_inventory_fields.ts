/**
 * Field checks of one inventory entry (inventory.ts): each adds a problem
 * naming the entry and the field, and returns the value only when it is good.
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

/** Every problem of an inventory: `volumes[2] "alpha": capacity: ...`. */
export class Problems {
  readonly list: string[] = [];
  add(where: string, field: string, message: string): void {
    this.list.push(`${where}: ${field ? `${field}: ` : ""}${message}`);
  }
}

/** Checks the fields of one entry (`where` names it), adding to the inventory's problems. */
export class EntryCheck {
  constructor(readonly raw: Raw, readonly where: string, readonly problems: Problems) {}

  /** Adds a problem of `field` ("" for the entry itself). */
  add(field: string, message: string): void {
    this.problems.add(this.where, field, message);
  }

  /** Runs a parser on `text`; its error becomes a problem of `field`. */
  parsed<T>(at: { field: string; text: string }, parse: () => T): T | undefined {
    try {
      return parse();
    } catch (error) {
      const message = (error as Error).message;
      this.add(at.field, message.startsWith(`"${at.text}"`) ? message : `"${at.text}": ${message}`);
      return undefined;
    }
  }

  /** A required string field. */
  requireString(key: string): string | undefined {
    if (this.raw[key] !== undefined) return this.optionalString(key);
    this.add(key, "is required");
    return undefined;
  }

  /** An optional string field. */
  optionalString(key: string): string | undefined {
    const value = this.raw[key];
    if (value === undefined || typeof value === "string") return value;
    this.add(key, `${show(value)} is not a string`);
    return undefined;
  }

  /** A required list field (the inventory's top level). */
  requireList(key: string): unknown[] {
    const value = this.raw[key];
    if (Array.isArray(value)) return value;
    this.problems.add(key, "", value === undefined ? "is required (a list)" : "is not a list");
    return [];
  }

  /** A problem per field the entry should not have (typos). */
  unknownKeys(known: readonly string[]): void {
    for (const key of Object.keys(this.raw)) {
      if (!known.includes(key)) this.add(key, `is not a known field (known: ${known.join(", ")})`);
    }
  }

  /** `capacity`: a Kubernetes quantity of at least one byte. */
  capacity(): string | undefined {
    const value = this.raw.capacity;
    if (value === undefined) {
      this.add("capacity", "is required (e.g. 10Ti)");
      return undefined;
    }
    const text = typeof value === "number" ? String(value) : value;
    if (typeof text !== "string") {
      this.add("capacity", `${show(value)} is not a quantity like 500Gi`);
      return undefined;
    }
    const bytes = this.parsed({ field: "capacity", text }, () => parseQuantity(text));
    if (bytes !== undefined && !(bytes >= 1)) {
      this.add("capacity", `"${text}" is less than one byte`);
      return undefined;
    }
    return bytes === undefined ? undefined : text;
  }

  /** `accessModes`: known modes, none twice (default ReadWriteMany). */
  accessModes(): AccessMode[] | undefined {
    const value = this.raw.accessModes ?? ["ReadWriteMany"];
    if (!Array.isArray(value) || value.length === 0) {
      this.add("accessModes", `${show(value)} is not a non-empty list`);
      return undefined;
    }
    const modes: AccessMode[] = [];
    for (const mode of value) {
      if (!(ACCESS_MODES as readonly unknown[]).includes(mode)) {
        this.add("accessModes", `${show(mode)} is not one of ${ACCESS_MODES.join(", ")}`);
        return undefined;
      }
      if (modes.includes(mode)) {
        this.add("accessModes", `"${mode}" is listed twice`);
        return undefined;
      }
      modes.push(mode);
    }
    return modes;
  }

  /** `mountOptions` as a comma list or a YAML list; checked against the driver's allow-list. */
  mountOptions(): string[] | undefined {
    const value = this.raw.mountOptions;
    if (value === undefined) return [];
    const text = Array.isArray(value) && value.every((o) => typeof o === "string")
      ? value.join(",")
      : value;
    if (typeof text !== "string") {
      this.add("mountOptions", `${show(value)} is not a list of options`);
      return undefined;
    }
    return this.parsed({ field: "mountOptions", text }, () => parseMountOptionList(text));
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
