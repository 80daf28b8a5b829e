/**
 * Where the key of an encrypted volume comes from: a KMIP server (one
 * AES-256 key per volume, named after it) or a per-class master key in a
 * Kubernetes Secret (each volume's key derived from it with HKDF-SHA256 and
 * the volume ID). Either way the result is the 64-byte fscrypt master key
 * that AES-256-XTS needs. Key bytes are never logged or written to disk.
 */
import { FSCRYPT_KEY_BYTES } from "../crypto/fscrypt.ts";
import type { Kmip } from "./kmip_client.ts";
import { Enum } from "./kmip_tags.ts";

/** The KMS kinds a StorageClass may name. */
export type KmsKind = "kmip" | "secret";

/** The volume has no key in the KMS (never created, or destroyed). */
export class KeyMissingError extends Error {
  override name = "KeyMissingError";
}

/** The keys of encrypted volumes from one KMS. */
export interface VolumeKeys {
  /** The KMS in words, for messages: "KMIP server 10.0.0.5:5696", "the Secret's master key". */
  readonly kms: string;
  /** Creates the volume's key, or finds the one an earlier try made; the fscrypt master key. */
  create(volumeId: string): Promise<Uint8Array>;
  /** The fscrypt master key of an existing volume. @throws KeyMissingError */
  fetch(volumeId: string): Promise<Uint8Array>;
  /** Destroys the volume's key; a key already gone is fine. */
  destroy(volumeId: string): Promise<void>;
}

const encoder = new TextEncoder();

/** HKDF with `hash` of `ikm` into `bytes` bytes; `ikm` is left as it is. */
export async function hkdf(
  hash: "SHA-256" | "SHA-512",
  ikm: Uint8Array,
  info: Uint8Array,
  bytes: number,
): Promise<Uint8Array> {
  const copy = new Uint8Array(ikm);
  const base = await crypto.subtle.importKey("raw", copy, "HKDF", false, ["deriveBits"])
    .finally(() => copy.fill(0));
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash, salt: new Uint8Array(0), info: new Uint8Array(info) },
    base,
    bytes * 8,
  );
  return new Uint8Array(bits);
}

/**
 * The identifier the kernel gives an fscrypt v2 key (HKDF-SHA512 of the key,
 * info "fscrypt\0" and context 1), known before the key is added anywhere.
 */
export async function fscryptKeyIdentifier(key: Uint8Array): Promise<string> {
  const info = new Uint8Array([...encoder.encode("fscrypt"), 0, 1]);
  const id = await hkdf("SHA-512", key, info, 16);
  return Array.from(id, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Keys derived from a master key: HKDF-SHA256(master, info "klustre-csi fscrypt v1 " + volume ID). */
export class SecretVolumeKeys implements VolumeKeys {
  readonly kms = "the master key of the class's Secret (kms: secret)";
  readonly #master: Uint8Array;

  /** @throws TypeError when the master key is shorter than 32 bytes */
  constructor(master: Uint8Array) {
    if (master.length < 32) {
      throw new TypeError(`the master key has ${master.length} bytes; it needs at least 32`);
    }
    this.#master = new Uint8Array(master);
  }

  create(volumeId: string): Promise<Uint8Array> {
    return this.fetch(volumeId);
  }

  fetch(volumeId: string): Promise<Uint8Array> {
    const info = encoder.encode(`klustre-csi fscrypt v1 ${volumeId}`);
    return hkdf("SHA-256", this.#master, info, FSCRYPT_KEY_BYTES);
  }

  destroy(): Promise<void> {
    // Nothing stored per volume: the key is gone with the directory it locked.
    return Promise.resolve();
  }

  /** Zeroes the copy of the master key. */
  forget(): void {
    this.#master.fill(0);
  }
}

/** The KMIP name of a volume's key. */
export function kmipKeyName(volumeId: string): string {
  return `klustre-csi/${volumeId}`;
}

/**
 * Keys on a KMIP server: one AES-256 key per volume, named kmipKeyName();
 * the fscrypt master key is HKDF-SHA512 of it (AES-256-XTS needs 64 bytes).
 */
export class KmipVolumeKeys implements VolumeKeys {
  readonly kms: string;
  readonly #kmip: Kmip;

  constructor(kmip: Kmip, where: string) {
    this.#kmip = kmip;
    this.kms = `KMIP server ${where}`;
  }

  async create(volumeId: string): Promise<Uint8Array> {
    const name = kmipKeyName(volumeId);
    const [found] = await this.#kmip.locate(name);
    const id = found ?? await this.#kmip.create(name);
    // A retry finds the key; the first attempt may have stopped before Activate.
    if (!found || await this.#kmip.state(id) === Enum.statePreActive) await this.#kmip.activate(id);
    return expand(await this.#kmip.get(id));
  }

  async fetch(volumeId: string): Promise<Uint8Array> {
    const name = kmipKeyName(volumeId);
    const ids = await this.#kmip.locate(name);
    if (ids.length === 0) throw new KeyMissingError(`${this.kms} has no key named "${name}"`);
    if (ids.length > 1) {
      throw new KeyMissingError(`${this.kms} has ${ids.length} keys named "${name}"; expected one`);
    }
    return expand(await this.#kmip.get(ids[0]));
  }

  async destroy(volumeId: string): Promise<void> {
    for (const id of await this.#kmip.locate(kmipKeyName(volumeId))) {
      // A server destroys no Active key: revoke it first. A key made before klustre-csi
      // activated keys is Pre-Active, one revoked by an earlier attempt Deactivated.
      if (await this.#kmip.state(id) === Enum.stateActive) await this.#kmip.revoke(id);
      await this.#kmip.destroy(id);
    }
  }
}

async function expand(kmipKey: Uint8Array): Promise<Uint8Array> {
  try {
    return await hkdf(
      "SHA-512",
      kmipKey,
      encoder.encode("klustre-csi fscrypt v1"),
      FSCRYPT_KEY_BYTES,
    );
  } finally {
    kmipKey.fill(0);
  }
}
