/**
 * A hostile Lustre user, for tests: keeps flipping directories between a
 * real directory and symlinks until a stop file appears, then prints how
 * many flips it made.
 *
 * Usage: deno run -A tests/support/flip_dir.ts STOP_FILE SPEC_JSON
 * SPEC_JSON: [{ "path": ".../flip", "hold": ".../hold", "targets": ["/", ...] }, ...]
 * Each `path` starts as a real directory; while it is a symlink, the
 * directory waits at `hold`.
 */
interface FlipSpec {
  readonly path: string;
  readonly hold: string;
  readonly targets: readonly string[];
}

const [stopFile, specText] = Deno.args;
const specs: FlipSpec[] = JSON.parse(specText);
const pause = new Int32Array(new SharedArrayBuffer(4));
let flips = 0;
for (let round = 0;; round++) {
  if (round % 16 === 0) {
    try {
      Deno.statSync(stopFile);
      break;
    } catch {
      // keep flipping
    }
  }
  for (const spec of specs) {
    // To a symlink, then back to the directory: each state lasts about a millisecond.
    Deno.renameSync(spec.path, spec.hold);
    Deno.symlinkSync(spec.targets[round % spec.targets.length], spec.path);
    Atomics.wait(pause, 0, 0, 1);
    Deno.removeSync(spec.path);
    Deno.renameSync(spec.hold, spec.path);
    flips += 2;
  }
  Atomics.wait(pause, 0, 0, 1);
}
console.log(JSON.stringify({ flips }));
