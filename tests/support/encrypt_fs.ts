/**
 * A real ext4 file system made with `-O encrypt` on a loop device, mounted
 * below a temp directory: the kernel's fscrypt code, as Lustre's client
 * encryption uses it. Needs root and a private mount namespace.
 */
import { tempDir } from "./driver.ts";

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** An encryptable ext4 mounted at `mount`; dispose unmounts it (freeing the loop device). */
export async function encryptableFs(
  sizeMiB = 16,
): Promise<AsyncDisposable & { mount: string; image: string }> {
  const dir = await tempDir("klustre-ext4-");
  const image = `${dir.path}/fs.img`;
  const mount = `${dir.path}/mnt`;
  try {
    const file = await Deno.create(image);
    await file.truncate(sizeMiB * 1024 * 1024);
    file.close();
    await run("mkfs.ext4", ["-q", "-O", "encrypt", image]);
    await Deno.mkdir(mount);
    // -o loop attaches a loop device with autoclear: the unmount frees it.
    await run("mount", ["-o", "loop", image, mount]);
  } catch (error) {
    await dir[Symbol.asyncDispose]();
    throw error;
  }
  return {
    mount,
    image,
    async [Symbol.asyncDispose]() {
      await run("umount", [mount]).catch(() => undefined);
      await dir[Symbol.asyncDispose]();
    },
  };
}
