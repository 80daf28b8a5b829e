/**
 * Regenerates the typed CSI messages and services from proto/csi.proto.
 *
 * Usage: deno task proto [--out DIR]
 * Without --out the committed code in src/csi/gen/ is rewritten; the drift
 * test passes a temp dir and compares.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = `${ROOT}node_modules/.bin`;

/** Runs buf with protoc-gen-es; writes csi_pb.ts into outDir. */
export async function generateProto(outDir: string): Promise<void> {
  const template = JSON.stringify({
    version: "v2",
    plugins: [{
      local: "protoc-gen-es",
      out: outDir,
      opt: ["target=ts", "import_extension=ts"],
    }],
  });
  const command = new Deno.Command(`${BIN}/buf`, {
    args: ["generate", "proto", "--template", template],
    cwd: ROOT,
    env: { PATH: `${BIN}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}` },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  });
  const { code, stderr } = await command.output();
  if (code !== 0) {
    throw new Error(`buf generate failed (exit ${code}): ${new TextDecoder().decode(stderr)}`);
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: "string" } } });
  const out = values.out ?? `${ROOT}src/csi/gen`;
  await generateProto(out);
  console.log(`generated ${out}/csi_pb.ts`);
}
