/**
 * Worker thread of the file system gate (fs_gate.ts): makes one file system
 * call at a time through libc, synchronously, so a call that hangs in the
 * kernel (a Lustre client waiting for its servers) holds this thread only,
 * never Deno's shared blocking pool.
 */
/// <reference lib="deno.worker" />

const libc = Deno.dlopen("libc.so.6", {
  statfs: { parameters: ["buffer", "buffer"], result: "i32" },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  opendir: { parameters: ["buffer"], result: "pointer" },
  readdir: { parameters: ["pointer"], result: "pointer" },
  closedir: { parameters: ["pointer"], result: "i32" },
  realpath: { parameters: ["buffer", "buffer"], result: "pointer" },
  __errno_location: { parameters: [], result: "pointer" },
});

const AT_FDCWD = -100;
const STATX_BASIC_STATS = 0x7ff;
const PATH_MAX = 4096;
/** struct statfs on 64-bit Linux: 11 longs and 4 spare ones. */
const STATFS_SIZE = 120;
/** struct statx is the same on every architecture. */
const STATX_SIZE = 256;
const STATX_MODE_OFFSET = 28;
const STATX_SIZE_OFFSET = 40;
const STATX_DEV_MAJOR_OFFSET = 136;
const STATX_DEV_MINOR_OFFSET = 140;

/** A call the gate asks for. */
export interface FsCallRequest {
  readonly op: "statfs" | "stat" | "check" | "realpath";
  readonly path: string;
}

/** The answer: errno 0 on success, with the op's figures. */
export interface FsCallReply {
  readonly errno: number;
  /** statfs: bsize, blocks, bfree, bavail, files, ffree. */
  readonly statfs?: readonly number[];
  /** stat: mode bits, size and the device of the file system holding the path. */
  readonly stat?: {
    readonly mode: number;
    readonly size: number;
    readonly major: number;
    readonly minor: number;
  };
  readonly realpath?: string;
}

const encoder = new TextEncoder();

function errno(): number {
  return new Deno.UnsafePointerView(libc.symbols.__errno_location()!).getInt32();
}

function setErrno(value: number): void {
  const view = Deno.UnsafePointerView.getArrayBuffer(libc.symbols.__errno_location()!, 4);
  new Int32Array(view)[0] = value;
}

function cString(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${text}\0`);
}

function statfs(path: string): FsCallReply {
  const buffer = new BigInt64Array(STATFS_SIZE / 8);
  if (libc.symbols.statfs(cString(path), buffer) !== 0) return { errno: errno() };
  // f_type, f_bsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree
  return { errno: 0, statfs: [1, 2, 3, 4, 5, 6].map((i) => Number(buffer[i])) };
}

function stat(path: string): FsCallReply {
  const buffer = new Uint8Array(STATX_SIZE);
  if (libc.symbols.statx(AT_FDCWD, cString(path), 0, STATX_BASIC_STATS, buffer) !== 0) {
    return { errno: errno() };
  }
  const view = new DataView(buffer.buffer);
  return {
    errno: 0,
    stat: {
      mode: view.getUint16(STATX_MODE_OFFSET, true),
      size: Number(view.getBigUint64(STATX_SIZE_OFFSET, true)),
      major: view.getUint32(STATX_DEV_MAJOR_OFFSET, true),
      minor: view.getUint32(STATX_DEV_MINOR_OFFSET, true),
    },
  };
}

/** stat, then open the directory and read its first entry. */
function check(path: string): FsCallReply {
  const stated = stat(path);
  if (stated.errno !== 0) return stated;
  const dir = libc.symbols.opendir(cString(path));
  if (dir === null) return { errno: errno() };
  setErrno(0);
  const entry = libc.symbols.readdir(dir);
  const failed = entry === null ? errno() : 0;
  libc.symbols.closedir(dir);
  return { errno: failed };
}

function realpath(path: string): FsCallReply {
  const buffer = new Uint8Array(PATH_MAX + 1);
  if (libc.symbols.realpath(cString(path), buffer) === null) return { errno: errno() };
  const end = buffer.indexOf(0);
  return { errno: 0, realpath: new TextDecoder().decode(buffer.subarray(0, end)) };
}

const OPS = { statfs, stat, check, realpath };

self.onmessage = (event: MessageEvent<FsCallRequest>) => {
  const { op, path } = event.data;
  self.postMessage(OPS[op](path) satisfies FsCallReply);
};
