/**
 * `klustre-csi pv --inventory FILE [--output -|FILE]`: static PV and PVC
 * manifests from an inventory. Exit 0 on success, 2 on bad usage or a bad
 * inventory (every problem printed), 1 when the output cannot be written.
 */
import { parseArgs } from "node:util";
import { InventoryError, parseInventory } from "./inventory.ts";
import { formatManifests } from "./pv_manifests.ts";

/** Help of `klustre-csi pv`. */
export const PV_USAGE = `Usage: klustre-csi pv --inventory FILE [--output -|FILE]

Generates static PersistentVolumes (driver lustre.csi.klustrefs.io,
StorageClass klustre-csi-static, Retain) and the PVC bound to each, from a
YAML inventory. Every entry is checked; each problem names the entry and
the field, and nothing is written unless all entries are good.

  --inventory FILE   The inventory (see docs/operations.md)
  --output -|FILE    Where to write the YAML (default -, standard output)
  -h, --help         Show this help

Inventory:
  fileSystems:
    - name: scratch                       # referred to by volumes
      source: 10.0.0.1@tcp0:/scratch      # MGS NID(s) and file system
      mountOptions: flock,user_xattr      # optional, a list or comma list
  volumes:
    - name: scratch-alpha                 # PV name and volume handle
      fs: scratch
      subdir: projects/alpha              # optional; must exist in Lustre
      capacity: 10Ti                      # Kubernetes quantity
      accessModes: [ReadWriteMany]        # optional (default ReadWriteMany)
      mountOptions: [noatime]             # optional, merged over the fs's
      namespace: team-alpha               # of the PVC
      claimName: alpha                    # optional PVC name (default: name)

Exit status: 0 written, 1 cannot read or write a file, 2 bad usage or inventory.
`;

/** Files and streams, as main.ts provides them. */
export interface PvCommandDeps {
  readonly readTextFile: (path: string) => Promise<string>;
  readonly writeTextFile: (path: string, text: string) => Promise<void>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Runs the command; resolves with the exit status. */
export async function runPvCommand(args: readonly string[], deps: PvCommandDeps): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: [...args],
      options: {
        inventory: { type: "string" },
        output: { type: "string", default: "-" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    deps.stderr(`klustre-csi pv: Cannot parse flags: ${(error as Error).message}\n\n${PV_USAGE}`);
    return 2;
  }
  if (values.help) {
    deps.stdout(PV_USAGE);
    return 0;
  }
  if (!values.inventory) {
    deps.stderr(`klustre-csi pv: --inventory FILE is required\n\n${PV_USAGE}`);
    return 2;
  }
  let text: string;
  try {
    text = await deps.readTextFile(values.inventory);
  } catch (error) {
    deps.stderr(
      `klustre-csi pv: Cannot read inventory "${values.inventory}": ${(error as Error).message}\n`,
    );
    return 1;
  }
  let yaml: string;
  try {
    yaml = formatManifests(parseInventory(text), values.inventory);
  } catch (error) {
    if (!(error instanceof InventoryError)) throw error;
    deps.stderr(
      `klustre-csi pv: Cannot use inventory "${values.inventory}": ${error.problems.length} ` +
        `problem(s):\n${error.problems.map((p) => `  ${p}\n`).join("")}`,
    );
    return 2;
  }
  if (values.output === "-") {
    deps.stdout(yaml);
    return 0;
  }
  try {
    await deps.writeTextFile(values.output, yaml);
  } catch (error) {
    deps.stderr(`klustre-csi pv: Cannot write "${values.output}": ${(error as Error).message}\n`);
    return 1;
  }
  return 0;
}
