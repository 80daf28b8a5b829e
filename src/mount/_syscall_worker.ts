/**
 * Worker thread that makes mount system calls through libc. Running them
 * here keeps a call that hangs in the kernel off the main event loop, and
 * lets errno be read on the thread that set it.
 */
/// <reference lib="deno.worker" />

const libc = Deno.dlopen("libc.so.6", {
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "buffer"], result: "i32" },
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
});

const encoder = new TextEncoder();

function cString(text: string | null): Uint8Array<ArrayBuffer> | null {
  return text === null ? null : encoder.encode(`${text}\0`);
}

/** A request from SystemMounter. */
export type SyscallRequest =
  | { op: "mount"; source: string | null; target: string; fsType: string | null; flags: number }
  | { op: "umount2"; target: string; flags: number };

/** The answer: result and errno (0 on success). */
export interface SyscallReply {
  result: number;
  errno: number;
}

self.onmessage = (event: MessageEvent<SyscallRequest>) => {
  const request = event.data;
  const result = request.op === "mount"
    ? libc.symbols.mount(
      cString(request.source),
      cString(request.target)!,
      cString(request.fsType),
      BigInt(request.flags),
      null,
    )
    : libc.symbols.umount2(cString(request.target)!, request.flags);
  const errno = result === 0
    ? 0
    : new Deno.UnsafePointerView(libc.symbols.__errno_location()!).getInt32();
  self.postMessage({ result, errno } satisfies SyscallReply);
};
