/**
 * mount(2) on the main thread, for the driver's own local directories only
 * (its state dir at start-up). A call on a local directory returns at once,
 * and a worker thread for it would cost an isolate of several MiB that stays
 * in the resident memory of an idle driver. Paths inside Lustre never come
 * here: their calls run in worker threads (system_mounter.ts).
 */

let libc: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

const SYMBOLS = {
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

const encoder = new TextEncoder();

/** mount(2) of a local path without a file system type; 0 or the errno. */
export function mountLocal(source: string | null, target: string, flags: number): number {
  libc ??= Deno.dlopen("libc.so.6", SYMBOLS);
  const result = libc.symbols.mount(
    source === null ? null : encoder.encode(`${source}\0`),
    encoder.encode(`${target}\0`),
    null,
    BigInt(flags),
    null,
  );
  if (result === 0) return 0;
  return new Deno.UnsafePointerView(libc.symbols.__errno_location()!).getInt32();
}
