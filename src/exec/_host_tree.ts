/**
 * Test helper: builds a fake host root (what the node plugin sees at /host)
 * in a temp dir, laid out as a given distribution lays out its loader and
 * libraries. Only the tests of this folder use it.
 */

/** A tree entry: a file's text, a directory, or a symlink's target (written as is). */
export type TreeEntry = string | { readonly dir: true } | { readonly link: string };

/** Debian 12 / Ubuntu 20.04 without usrmerge: an absolute loader symlink into the multiarch dir. */
export const DEBIAN: Readonly<Record<string, TreeEntry>> = {
  "lib64/ld-linux-x86-64.so.2": { link: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" },
  "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": "host loader",
  "lib/x86_64-linux-gnu/libc.so.6": "host libc",
  "usr/lib/x86_64-linux-gnu/liblustreapi.so.1": "host lustreapi",
  "usr/sbin/mount.lustre": "host mount.lustre",
};

/** Ubuntu 22.04+ / Debian 12 usrmerge: /lib, /lib64 and /sbin are relative symlinks into /usr. */
export const UBUNTU_USRMERGE: Readonly<Record<string, TreeEntry>> = {
  "lib": { link: "usr/lib" },
  "lib64": { link: "usr/lib64" },
  "sbin": { link: "usr/sbin" },
  "usr/lib64/ld-linux-x86-64.so.2": { link: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" },
  "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": "host loader",
  "usr/lib/x86_64-linux-gnu/libc.so.6": "host libc",
  "usr/sbin/mount.lustre": "host mount.lustre",
};

/** RHEL 8: /lib64 -> usr/lib64, the loader a relative symlink to the versioned file. */
export const RHEL: Readonly<Record<string, TreeEntry>> = {
  "lib": { link: "usr/lib" },
  "lib64": { link: "usr/lib64" },
  "usr/lib": { dir: true },
  "usr/lib64/ld-linux-x86-64.so.2": { link: "ld-2.28.so" },
  "usr/lib64/ld-2.28.so": "host loader",
  "usr/lib64/libc.so.6": { link: "libc-2.28.so" },
  "usr/lib64/libc-2.28.so": "host libc",
  "usr/sbin/mount.lustre": "host mount.lustre",
};

/** An older RHEL-like host: a real /lib64 whose links climb into /usr/lib64 with "..". */
export const RHEL_SPLIT: Readonly<Record<string, TreeEntry>> = {
  "lib64/ld-linux-x86-64.so.2": { link: "../usr/lib64/ld-2.17.so" },
  "lib64/libc.so.6": { link: "../usr/lib64/libc-2.17.so" },
  "usr/lib64/ld-2.17.so": "host loader",
  "usr/lib64/libc-2.17.so": "host libc",
};

/** Debian on arm64. */
export const DEBIAN_ARM64: Readonly<Record<string, TreeEntry>> = {
  "lib/ld-linux-aarch64.so.1": { link: "/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1" },
  "lib/aarch64-linux-gnu/ld-linux-aarch64.so.1": "host loader",
  "lib/aarch64-linux-gnu/libc.so.6": "host libc",
};

/** Writes the entries under `root` (parents first created as needed). */
export async function buildTree(
  root: string,
  entries: Readonly<Record<string, TreeEntry>>,
): Promise<void> {
  for (const [path, entry] of Object.entries(entries)) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    if (typeof entry === "string") await Deno.writeTextFile(full, entry);
    else if ("dir" in entry) await Deno.mkdir(full, { recursive: true });
    else await Deno.symlink(entry.link, full);
  }
}

/** Runs `body` with a fresh temp dir holding the tree, removed afterwards. */
export async function withTree(
  entries: Readonly<Record<string, TreeEntry>>,
  body: (root: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "host-tree-" });
  try {
    await buildTree(root, entries);
    await body(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}
