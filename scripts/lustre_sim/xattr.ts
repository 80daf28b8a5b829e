/**
 * Extended attributes through libc (Deno has no xattr API). The simulator keeps project IDs
 * and layouts in `user.lustre_sim.*` attributes of the backing tmpfs.
 */

const SYMBOLS = {
  lgetxattr: { parameters: ["buffer", "buffer", "buffer", "usize"], result: "isize" },
  lsetxattr: { parameters: ["buffer", "buffer", "buffer", "usize", "i32"], result: "i32" },
  lremovexattr: { parameters: ["buffer", "buffer"], result: "i32" },
} as const;

let libc: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;

function lib(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  libc ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return libc.symbols;
}

const enc = new TextEncoder();
const cstr = (s: string) => enc.encode(`${s}\0`);

/** The attribute's value, or null when it is absent or unreadable. */
export function getXattr(path: string, name: string): string | null {
  const buf = new Uint8Array(4096);
  const n = Number(lib().lgetxattr(cstr(path), cstr(name), buf, BigInt(buf.length)));
  return n < 0 ? null : new TextDecoder().decode(buf.subarray(0, n));
}

/**
 * Sets an attribute (not following symlinks).
 * @throws Error when the file system refuses it
 */
export function setXattr(path: string, name: string, value: string): void {
  const data = enc.encode(value);
  if (lib().lsetxattr(cstr(path), cstr(name), data, BigInt(data.length), 0) !== 0) {
    throw new Error(`Cannot set xattr "${name}" on "${path}"`);
  }
}

/** Removes an attribute; absent is fine. */
export function removeXattr(path: string, name: string): void {
  lib().lremovexattr(cstr(path), cstr(name));
}
