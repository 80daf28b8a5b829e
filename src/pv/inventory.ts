/**
 * The inventory of `klustre-csi pv`: Lustre file systems and the static
 * volumes to create on them. Every entry is checked with the driver's own
 * parsers; every problem names the entry (index and name) and the field.
 */
import { parse as parseYaml } from "yaml";
import { parseLustreSource, parseSubdir } from "../lustre/source.ts";
import { mergeMountOptions } from "../lustre/mount_options.ts";
import { isDns1123Label, isDns1123Subdomain } from "./kubernetes_names.ts";

import { type AccessMode, EntryCheck, isMap, Problems, show } from "./_inventory_fields.ts";

/** A Lustre file system of the inventory. */
export interface FileSystemEntry {
  readonly name: string;
  /** As written (`10.0.0.1@tcp0:/lustre-fs`); the driver canonicalises it. */
  readonly source: string;
  readonly mountOptions: readonly string[];
}

/** One static volume: a PV and the PVC bound to it. */
export interface VolumeEntry {
  /** PV name and volume handle. */
  readonly name: string;
  readonly fs: FileSystemEntry;
  /** Relative directory ("projects/alpha"), "" for the file system's root. */
  readonly subdir: string;
  readonly capacity: string;
  readonly accessModes: readonly AccessMode[];
  /** The file system's options merged with the volume's (the volume's win). */
  readonly mountOptions: readonly string[];
  readonly namespace: string;
  readonly claimName: string;
}

/** A checked inventory. */
export interface Inventory {
  readonly fileSystems: readonly FileSystemEntry[];
  readonly volumes: readonly VolumeEntry[];
}

/** An inventory with problems; `problems` holds one line each. */
export class InventoryError extends Error {
  override name = "InventoryError";
  constructor(readonly problems: readonly string[]) {
    super(`the inventory has ${problems.length} problem(s):\n${problems.join("\n")}`);
  }
}

const TOP_KEYS = ["fileSystems", "volumes"];
const FS_KEYS = ["name", "source", "mountOptions"];
const VOLUME_KEYS = [
  "name",
  "fs",
  "subdir",
  "capacity",
  "accessModes",
  "mountOptions",
  "namespace",
  "claimName",
];

/**
 * Parses and checks an inventory's YAML text.
 * @throws InventoryError listing every problem found
 */
export function parseInventory(text: string): Inventory {
  let top: unknown;
  try {
    top = parseYaml(text);
  } catch (error) {
    throw new InventoryError([`the file is not YAML: ${(error as Error).message}`]);
  }
  const problems = new Problems();
  if (!isMap(top)) {
    throw new InventoryError(["the file is not a map with fileSystems and volumes"]);
  }
  const inventory = new EntryCheck(top, "the inventory", problems);
  inventory.unknownKeys(TOP_KEYS);
  const fsList = inventory.requireList("fileSystems");
  const volumeList = inventory.requireList("volumes");
  const fileSystems = new Map<string, FileSystemEntry | undefined>();
  fsList.forEach((raw, index) => {
    const entry = checkFileSystem(raw, `fileSystems[${index}]`, problems);
    if (!entry.name) return;
    if (fileSystems.has(entry.name)) {
      problems.add(entry.where, "name", `"${entry.name}" is used by an earlier file system`);
    } else {
      fileSystems.set(entry.name, entry.value);
    }
  });
  const volumes: VolumeEntry[] = [];
  const names = new Set<string>();
  const claims = new Set<string>();
  volumeList.forEach((raw, index) => {
    const name = isMap(raw) && typeof raw.name === "string" ? raw.name : undefined;
    if (name !== undefined && names.has(name)) {
      problems.add(`volumes[${index}] "${name}"`, "name", `"${name}" is used by an earlier volume`);
    }
    if (name !== undefined) names.add(name);
    const entry = checkVolume(raw, `volumes[${index}]`, fileSystems, problems);
    if (!entry) return;
    const claim = `${entry.value.namespace}/${entry.value.claimName}`;
    if (claims.has(claim)) {
      problems.add(entry.where, "claimName", `PVC "${claim}" is claimed by an earlier volume`);
    }
    claims.add(claim);
    volumes.push(entry.value);
  });
  if (problems.list.length === 0 && volumes.length === 0) {
    problems.add("volumes", "", "lists no volumes");
  }
  if (problems.list.length > 0) throw new InventoryError(problems.list);
  return { fileSystems: [...fileSystems.values()].filter((f) => f !== undefined), volumes };
}

function checkFileSystem(raw: unknown, at: string, problems: Problems) {
  const name = isMap(raw) && typeof raw.name === "string" ? raw.name : "";
  const where = name ? `${at} "${name}"` : at;
  if (!isMap(raw)) {
    problems.add(where, "", "is not a map of name, source and mountOptions");
    return { where, name, value: undefined };
  }
  const before = problems.list.length;
  const entry = new EntryCheck(raw, where, problems);
  entry.unknownKeys(FS_KEYS);
  if (raw.name === undefined) entry.add("name", "is required");
  else if (!isDns1123Label(name)) {
    entry.add("name", `${show(raw.name)} is not a name of a-z, 0-9 and "-"`);
  }
  const source = entry.requireString("source");
  if (source !== undefined) {
    entry.parsed({ field: "source", text: source }, () => parseLustreSource(source));
  }
  const mountOptions = entry.mountOptions();
  const ok = problems.list.length === before;
  return {
    where,
    name,
    value: ok ? { name, source: source!, mountOptions: mountOptions ?? [] } : undefined,
  };
}

function checkVolume(
  raw: unknown,
  at: string,
  fileSystems: ReadonlyMap<string, FileSystemEntry | undefined>,
  problems: Problems,
): { where: string; value: VolumeEntry } | undefined {
  const name = isMap(raw) && typeof raw.name === "string" ? raw.name : "";
  const where = name ? `${at} "${name}"` : at;
  if (!isMap(raw)) {
    problems.add(where, "", "is not a map of name, fs, subdir, capacity, ...");
    return undefined;
  }
  const before = problems.list.length;
  const entry = new EntryCheck(raw, where, problems);
  entry.unknownKeys(VOLUME_KEYS);
  if (raw.name === undefined) entry.add("name", "is required");
  else if (!isDns1123Subdomain(name)) {
    entry.add(
      "name",
      `${show(raw.name)} is not a PV name (lowercase a-z, 0-9, "-" and ".", at most 253)`,
    );
  }
  const fsName = entry.requireString("fs");
  const fs = fsName === undefined ? undefined : fileSystems.get(fsName);
  if (fsName !== undefined && !fileSystems.has(fsName)) {
    const known = [...fileSystems.keys()].map((n) => `"${n}"`).join(", ") || "none";
    entry.add("fs", `"${fsName}" is not a file system of the inventory (${known})`);
  }
  const subdirText = entry.optionalString("subdir") ?? "";
  const subdir = subdirText === ""
    ? ""
    : entry.parsed({ field: "subdir", text: subdirText }, () => parseSubdir(subdirText).slice(1));
  const capacity = entry.capacity();
  const accessModes = entry.accessModes();
  const mountOptions = entry.mountOptions();
  const namespace = entry.requireString("namespace");
  if (namespace !== undefined && !isDns1123Label(namespace)) {
    entry.add("namespace", `"${namespace}" is not a namespace name`);
  }
  const claimName = entry.optionalString("claimName") ?? name;
  if (raw.claimName !== undefined && !isDns1123Subdomain(claimName)) {
    entry.add("claimName", `"${claimName}" is not a PVC name`);
  }
  if (problems.list.length > before || !fs) return undefined;
  return {
    where,
    value: {
      name,
      fs,
      subdir: subdir ?? "",
      capacity: capacity!,
      accessModes: accessModes!,
      mountOptions: mergeMountOptions([fs.mountOptions, mountOptions ?? []]),
      namespace: namespace!,
      claimName,
    },
  };
}
