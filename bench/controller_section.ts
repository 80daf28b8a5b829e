/** Runs the controller section of the bench and writes its results files. */
import {
  benchController,
  type ControllerBenchSettings,
  formatControllerMarkdown,
} from "./bench_controller.ts";

/** Runs the section and writes `<out>/results_controller.json` and `.md`. */
export async function runControllerSection(
  out: string,
  settings: ControllerBenchSettings,
  log: (message: string) => void,
): Promise<void> {
  const results = await benchController(settings, log);
  await Deno.mkdir(out, { recursive: true });
  const stamped = { generatedAt: new Date().toISOString(), ...results };
  await Deno.writeTextFile(
    `${out}/results_controller.json`,
    JSON.stringify(stamped, null, 2) + "\n",
  );
  await Deno.writeTextFile(`${out}/results_controller.md`, formatControllerMarkdown(results));
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", `${out}/results_controller.md`],
  }).output();
  log(`wrote ${out}/results_controller.json and results_controller.md`);
}
