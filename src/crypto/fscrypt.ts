/**
 * fscrypt (the kernel's file-based encryption, which Lustre's client
 * encryption uses too): v2 policies and keys on a directory, through
 * ioctls made in a worker thread (_fscrypt_worker.ts), each call bounded by
 * a timeout so a hung file system cannot wedge the driver.
 */
import { errnoName } from "../mount/errno_names.ts";
import type { FscryptReply, FscryptRequest } from "./_fscrypt_worker.ts";

/** FSCRYPT_MODE_AES_256_XTS. */
const MODE_AES_256_XTS = 1;
/** FSCRYPT_MODE_AES_256_CTS. */
const MODE_AES_256_CTS = 4;
/** FSCRYPT_POLICY_FLAGS_PAD_32: file names padded to 32 bytes, the least they give away. */
const FLAGS_PAD_32 = 0x03;
/** Bytes of a master key for AES-256-XTS: the kernel refuses shorter ones (ENOKEY at open). */
export const FSCRYPT_KEY_BYTES = 64;

const ERRNO_NAMES: Record<number, string> = {
  17: "EEXIST",
  25: "ENOTTY",
  39: "ENOTEMPTY",
  61: "ENODATA",
  95: "EOPNOTSUPP",
  126: "ENOKEY",
};

/** A v2 policy as the kernel reports it. */
export interface FscryptPolicy {
  readonly version: number;
  readonly contentsMode: number;
  readonly filenamesMode: number;
  readonly flags: number;
  /** The master key identifier, 32 hex digits (v2 only). */
  readonly identifier: string;
}

/** What removing a key did. */
export interface KeyRemoval {
  /** False when the key was not there (already removed). */
  readonly removed: boolean;
  /** Files still open kept their contents readable: the key is only partly gone. */
  readonly filesBusy: boolean;
  /** Other users still hold a claim on the key. */
  readonly otherUsers: boolean;
}

/** Status of a key on a file system. */
export type KeyStatus = "absent" | "present" | "incompletely-removed";

/** An ioctl answered an errno; `code` is its name (ENOKEY, EEXIST, ...). */
export class FscryptError extends Error {
  override name = "FscryptError";
  constructor(readonly code: string, readonly op: string, readonly path: string) {
    super(`fscrypt ${op} on "${path}" failed: ${code}`);
  }
}

/** An ioctl did not return in time (its thread is left to it). */
export class FscryptTimeoutError extends Error {
  override name = "FscryptTimeoutError";
  constructor(readonly op: string, readonly path: string, timeoutMs: number) {
    super(`fscrypt ${op} on "${path}" did not answer within ${timeoutMs} ms`);
  }
}

/** The fscrypt calls the driver makes on directories. */
export interface Fscrypt {
  /** Sets the v2 policy (AES-256-XTS, AES-256-CTS) of key `identifier` on an empty directory. */
  setPolicy(dir: string, identifier: string): Promise<void>;
  /** The directory's policy; null when it is not encrypted. */
  policy(dir: string): Promise<FscryptPolicy | null>;
  /** Adds a key to the directory's file system; returns its identifier. Zeroes `key`. */
  addKey(dir: string, key: Uint8Array): Promise<string>;
  /** Removes the key from the directory's file system. */
  removeKey(dir: string, identifier: string): Promise<KeyRemoval>;
  keyStatus(dir: string, identifier: string): Promise<KeyStatus>;
}

/** The part of a Worker the calls use; tests may pass fakes. */
export interface FscryptWorkerLike {
  postMessage(message: FscryptRequest, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent<FscryptReply>) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
  terminate(): void;
}

/** Settings of WorkerFscrypt. */
export interface WorkerFscryptOptions {
  readonly timeoutMs: number;
  readonly createWorker?: () => FscryptWorkerLike;
}

/** The v2 policy bytes (struct fscrypt_policy_v2) for key `identifier`. */
export function encodePolicy(identifier: string): Uint8Array<ArrayBuffer> {
  const policy = new Uint8Array(24);
  policy.set([2, MODE_AES_256_XTS, MODE_AES_256_CTS, FLAGS_PAD_32]);
  policy.set(fromHex(identifier), 8);
  return policy;
}

/** A policy from struct fscrypt_policy_v2 (or v1) bytes. */
export function decodePolicy(bytes: Uint8Array): FscryptPolicy {
  const [version, contentsMode, filenamesMode, flags] = bytes;
  const identifier = version === 2 ? toHex(bytes.subarray(8, 24)) : toHex(bytes.subarray(4, 12));
  return { version, contentsMode, filenamesMode, flags, identifier };
}

/** True for the policy setPolicy sets. */
export function isExpectedPolicy(policy: FscryptPolicy): boolean {
  return policy.version === 2 && policy.contentsMode === MODE_AES_256_XTS &&
    policy.filenamesMode === MODE_AES_256_CTS;
}

/** fscrypt through ioctls in worker threads, one worker per call. */
export class WorkerFscrypt implements Fscrypt {
  readonly #options: WorkerFscryptOptions;

  constructor(options: WorkerFscryptOptions) {
    this.#options = options;
  }

  async setPolicy(dir: string, identifier: string): Promise<void> {
    const policy = encodePolicy(identifier);
    check(
      await this.#call({ op: "setPolicy", path: dir, policy }, [policy.buffer]),
      "set policy",
      dir,
    );
  }

  async policy(dir: string): Promise<FscryptPolicy | null> {
    const reply = await this.#call({ op: "getPolicy", path: dir }, []);
    if (reply.errno === 61) return null;
    check(reply, "get policy", dir);
    return decodePolicy(reply.bytes!);
  }

  async addKey(dir: string, key: Uint8Array): Promise<string> {
    const copy = new Uint8Array(key);
    key.fill(0);
    const reply = await this.#call({ op: "addKey", path: dir, key: copy }, [copy.buffer]);
    check(reply, "add key", dir);
    return toHex(reply.bytes!);
  }

  async removeKey(dir: string, identifier: string): Promise<KeyRemoval> {
    const id = fromHex(identifier);
    const reply = await this.#call({ op: "removeKey", path: dir, identifier: id }, [id.buffer]);
    if (reply.errno === 126) return { removed: false, filesBusy: false, otherUsers: false };
    check(reply, "remove key", dir);
    const [flags] = reply.numbers!;
    return { removed: true, filesBusy: (flags & 1) !== 0, otherUsers: (flags & 2) !== 0 };
  }

  async keyStatus(dir: string, identifier: string): Promise<KeyStatus> {
    const id = fromHex(identifier);
    const reply = await this.#call({ op: "keyStatus", path: dir, identifier: id }, [id.buffer]);
    check(reply, "key status", dir);
    const [status] = reply.numbers!;
    return status === 2 ? "present" : status === 3 ? "incompletely-removed" : "absent";
  }

  #call(request: FscryptRequest, transfer: Transferable[]): Promise<FscryptReply> {
    const { timeoutMs } = this.#options;
    const worker = (this.#options.createWorker ?? createWorker)();
    return new Promise<FscryptReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        worker.terminate();
        reject(new FscryptTimeoutError(request.op, request.path, timeoutMs));
      }, timeoutMs);
      worker.onmessage = (event) => {
        clearTimeout(timer);
        worker.terminate();
        resolve(event.data);
      };
      worker.onerror = (event) => {
        event.preventDefault();
        clearTimeout(timer);
        worker.terminate();
        reject(new Error(`fscrypt worker failed: ${event.message}`));
      };
      worker.postMessage(request, transfer);
    });
  }
}

function createWorker(): FscryptWorkerLike {
  return new Worker(new URL("./_fscrypt_worker.ts", import.meta.url), { type: "module" });
}

function check(reply: FscryptReply, op: string, path: string): void {
  if (reply.errno === 0) return;
  throw new FscryptError(ERRNO_NAMES[reply.errno] ?? errnoName(reply.errno), op, path);
}

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bytes of a hex string. @throws Error when it is not hex of whole bytes */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`Not a hex string: "${hex}"`);
  return new Uint8Array(hex.match(/../g)?.map((pair) => parseInt(pair, 16)) ?? []);
}
