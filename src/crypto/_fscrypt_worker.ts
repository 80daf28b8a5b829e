/**
 * Worker thread that makes the fscrypt ioctls (linux/fscrypt.h) through
 * libc. One call per message; a call that hangs in the kernel (a Lustre
 * client waiting for its servers) holds this thread only. Key bytes arrive
 * in a transferred buffer and are zeroed here after the call.
 */
/// <reference lib="deno.worker" />
import { O_CLOEXEC, O_DIRECTORY } from "../mount/_beneath.ts";

const libc = Deno.dlopen("libc.so.6", {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
});

const O_RDONLY_DIRECTORY_CLOEXEC = O_DIRECTORY | O_CLOEXEC;
/** _IOR('f', 19, struct fscrypt_policy_v1): also takes v2 policies. */
const FS_IOC_SET_ENCRYPTION_POLICY = 0x800c6613n;
/** _IOWR('f', 22, __u8[9]). */
const FS_IOC_GET_ENCRYPTION_POLICY_EX = 0xc0096616n;
/** _IOWR('f', 23, struct fscrypt_add_key_arg) (80 bytes). */
const FS_IOC_ADD_ENCRYPTION_KEY = 0xc0506617n;
/** _IOWR('f', 24, struct fscrypt_remove_key_arg) (64 bytes). */
const FS_IOC_REMOVE_ENCRYPTION_KEY = 0xc0406618n;
/** _IOWR('f', 26, struct fscrypt_get_key_status_arg) (128 bytes). */
const FS_IOC_GET_ENCRYPTION_KEY_STATUS = 0xc080661an;

const FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER = 2;
const KEY_SPEC_SIZE = 40;
const IDENTIFIER_SIZE = 16;
const POLICY_V2_SIZE = 24;

/** A call the main thread asks for. */
export type FscryptRequest =
  | { op: "setPolicy"; path: string; policy: Uint8Array<ArrayBuffer> }
  | { op: "getPolicy"; path: string }
  | { op: "addKey"; path: string; key: Uint8Array<ArrayBuffer> }
  | { op: "removeKey"; path: string; identifier: Uint8Array<ArrayBuffer> }
  | { op: "keyStatus"; path: string; identifier: Uint8Array<ArrayBuffer> };

/** The answer: errno 0 on success, with the op's output bytes. */
export interface FscryptReply {
  readonly errno: number;
  /** getPolicy: the policy (version byte first); addKey: the key identifier. */
  readonly bytes?: Uint8Array<ArrayBuffer>;
  /** removeKey: removal status flags; keyStatus: status, status flags, user count. */
  readonly numbers?: readonly number[];
}

const encoder = new TextEncoder();

function errno(): number {
  return new Deno.UnsafePointerView(libc.symbols.__errno_location()!).getInt32();
}

/** Opens `path` as a directory, runs `ioctl` on it, closes it. */
function onDirectory(path: string, request: bigint, arg: Uint8Array<ArrayBuffer>): number {
  const fd = libc.symbols.open(encoder.encode(`${path}\0`), O_RDONLY_DIRECTORY_CLOEXEC);
  if (fd < 0) return errno();
  try {
    return libc.symbols.ioctl(fd, request, arg) === 0 ? 0 : errno();
  } finally {
    libc.symbols.close(fd);
  }
}

/** A key specifier of type IDENTIFIER at the start of `arg`. */
function keySpec(arg: Uint8Array<ArrayBuffer>, identifier: Uint8Array): void {
  new DataView(arg.buffer).setUint32(0, FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER, true);
  arg.set(identifier.subarray(0, IDENTIFIER_SIZE), 8);
}

function setPolicy(path: string, policy: Uint8Array<ArrayBuffer>): FscryptReply {
  return { errno: onDirectory(path, FS_IOC_SET_ENCRYPTION_POLICY, policy) };
}

function getPolicy(path: string): FscryptReply {
  const arg = new Uint8Array(8 + POLICY_V2_SIZE);
  new DataView(arg.buffer).setBigUint64(0, BigInt(POLICY_V2_SIZE), true);
  const code = onDirectory(path, FS_IOC_GET_ENCRYPTION_POLICY_EX, arg);
  if (code !== 0) return { errno: code };
  const size = Number(new DataView(arg.buffer).getBigUint64(0, true));
  return { errno: 0, bytes: arg.slice(8, 8 + size) };
}

function addKey(path: string, key: Uint8Array<ArrayBuffer>): FscryptReply {
  const arg = new Uint8Array(80 + key.length);
  try {
    const view = new DataView(arg.buffer);
    view.setUint32(0, FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER, true);
    view.setUint32(KEY_SPEC_SIZE, key.length, true);
    arg.set(key, 80);
    const code = onDirectory(path, FS_IOC_ADD_ENCRYPTION_KEY, arg);
    if (code !== 0) return { errno: code };
    return { errno: 0, bytes: arg.slice(8, 8 + IDENTIFIER_SIZE) };
  } finally {
    arg.fill(0);
    key.fill(0);
  }
}

function removeKey(path: string, identifier: Uint8Array<ArrayBuffer>): FscryptReply {
  const arg = new Uint8Array(64);
  keySpec(arg, identifier);
  const code = onDirectory(path, FS_IOC_REMOVE_ENCRYPTION_KEY, arg);
  if (code !== 0) return { errno: code };
  return { errno: 0, numbers: [new DataView(arg.buffer).getUint32(KEY_SPEC_SIZE, true)] };
}

function keyStatus(path: string, identifier: Uint8Array<ArrayBuffer>): FscryptReply {
  const arg = new Uint8Array(128);
  keySpec(arg, identifier);
  const code = onDirectory(path, FS_IOC_GET_ENCRYPTION_KEY_STATUS, arg);
  if (code !== 0) return { errno: code };
  const view = new DataView(arg.buffer);
  return { errno: 0, numbers: [64, 68, 72].map((at) => view.getUint32(at, true)) };
}

self.onmessage = (event: MessageEvent<FscryptRequest>) => {
  const request = event.data;
  let reply: FscryptReply;
  switch (request.op) {
    case "setPolicy":
      reply = setPolicy(request.path, request.policy);
      break;
    case "getPolicy":
      reply = getPolicy(request.path);
      break;
    case "addKey":
      reply = addKey(request.path, request.key);
      break;
    case "removeKey":
      reply = removeKey(request.path, request.identifier);
      break;
    case "keyStatus":
      reply = keyStatus(request.path, request.identifier);
      break;
  }
  self.postMessage(reply);
};
