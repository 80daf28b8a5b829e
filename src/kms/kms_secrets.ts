/**
 * The KMS of an encrypted class from the CSI secrets of a request (the
 * Secrets the StorageClass names with csi.storage.k8s.io/provisioner-secret-*
 * and node-stage-secret-*). Messages name missing or bad entries, never
 * their values.
 */
import { KmipClient } from "./kmip_client.ts";
import { KmipVolumeKeys, type KmsKind, SecretVolumeKeys, type VolumeKeys } from "./volume_keys.ts";

/** Secret entries per KMS kind. */
export const KMS_SECRET_KEYS = {
  secret: ["encryptionMasterKey"],
  kmip: ["kmipEndpoint", "kmipCaCert", "kmipClientCert", "kmipClientKey"],
} as const;

/** The KMIP port of the specification. */
const KMIP_PORT = 5696;

/**
 * The volume keys of `kms` from `secrets`.
 * @throws TypeError naming the missing or malformed entry
 */
export function volumeKeysFrom(
  kms: KmsKind,
  secrets: Readonly<Record<string, string>>,
  options: { timeoutMs: number },
): VolumeKeys {
  const missing = KMS_SECRET_KEYS[kms].filter((key) => !secrets[key]);
  if (missing.length > 0) {
    throw new TypeError(
      `the request's secrets lack ${
        missing.map((k) => `"${k}"`).join(", ")
      } (needed for kms: ${kms})`,
    );
  }
  if (kms === "secret") {
    let master: Uint8Array;
    try {
      master = Uint8Array.from(atob(secrets.encryptionMasterKey.trim()), (c) => c.charCodeAt(0));
    } catch {
      throw new TypeError('secret "encryptionMasterKey" is not base64');
    }
    try {
      return new SecretVolumeKeys(master);
    } catch (error) {
      throw new TypeError(`secret "encryptionMasterKey": ${(error as Error).message}`);
    } finally {
      master.fill(0);
    }
  }
  const { host, port } = parseEndpoint(secrets.kmipEndpoint);
  requirePem("kmipCaCert", secrets.kmipCaCert, /-----BEGIN CERTIFICATE-----/);
  requirePem("kmipClientCert", secrets.kmipClientCert, /-----BEGIN CERTIFICATE-----/);
  requirePem("kmipClientKey", secrets.kmipClientKey, /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  const client = new KmipClient({
    host,
    port,
    ca: secrets.kmipCaCert,
    cert: secrets.kmipClientCert,
    key: secrets.kmipClientKey,
    ...(secrets.kmipServerName ? { serverName: secrets.kmipServerName } : {}),
  }, options);
  return new KmipVolumeKeys(client, `${host}:${port}`);
}

/** "host", "host:port" or "[v6]:port". @throws TypeError */
export function parseEndpoint(text: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(text.trim());
  const port = match?.[3] === undefined ? KMIP_PORT : Number(match[3]);
  if (!match || port < 1 || port > 65535) {
    throw new TypeError(
      `secret "kmipEndpoint" "${text}" is not host:port (e.g. kmip.example.com:5696)`,
    );
  }
  return { host: match[1] ?? match[2], port };
}

/** @throws TypeError when `text` is not PEM of the expected kind (its value is not shown) */
function requirePem(key: string, text: string, begin: RegExp): void {
  if (!begin.test(text)) {
    throw new TypeError(
      `secret "${key}" is not PEM (no ${begin.source.replaceAll("[A-Z ]*", "")} line)`,
    );
  }
}
