/**
 * The per-step file invariant: every published target of a file system that
 * answers shows its volume's marker. A volume's marker (and each pod's data
 * file) is written through the first target that can take it.
 */
import { dataName, markerName, PODS, VOLUMES } from "./cluster.ts";
import type { KubeletPaths } from "./calls.ts";
import type { NodeModel } from "./model.ts";
import { readFiles, writeFile } from "./files.ts";
import { check } from "./invariant.ts";

/** Files the pods wrote: relative to a volume's directory, with their content. */
export class Written {
  readonly markers = new Set<number>();
  readonly data = new Set<string>();
}

/** Writes what is missing and reads every healthy target's marker. */
export async function checkTargets(model: NodeModel, paths: KubeletPaths, written: Written) {
  const targets = model.healthyTargets();
  for (const t of targets) {
    const volume = VOLUMES[t.volume];
    const dir = paths.target(t.volume, t.pod);
    if (!written.markers.has(t.volume)) {
      const error = await writeFile(`${dir}/${markerName(volume)}`, volume.id);
      check(!error, `Cannot write ${volume.id}'s marker through ${PODS[t.pod]}'s target: ${error}`);
      written.markers.add(t.volume);
    }
    if (!written.data.has(`${t.volume}/${t.pod}`)) {
      const error = await writeFile(
        `${dir}/${dataName(PODS[t.pod])}`,
        `${volume.id} ${PODS[t.pod]}`,
      );
      check(!error, `Cannot write through ${PODS[t.pod]}'s target of ${volume.id}: ${error}`);
      written.data.add(`${t.volume}/${t.pod}`);
    }
  }
  const reads = await readFiles(
    targets.map((t) => `${paths.target(t.volume, t.pod)}/${markerName(VOLUMES[t.volume])}`),
  );
  for (const [i, t] of targets.entries()) {
    const { text, error } = reads[i];
    check(
      text === VOLUMES[t.volume].id,
      `${PODS[t.pod]}'s published target of ${VOLUMES[t.volume].id} does not show its marker: ` +
        (error ?? `read "${text}"`),
    );
  }
}
