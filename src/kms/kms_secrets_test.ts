import assert from "node:assert/strict";
import { parseEndpoint, volumeKeysFrom } from "./kms_secrets.ts";

const MASTER = btoa(String.fromCharCode(...new Uint8Array(32).fill(9)));

Deno.test("volumeKeysFrom() derives 64-byte keys per volume from the Secret's master key", async () => {
  const keys = volumeKeysFrom("secret", { encryptionMasterKey: MASTER }, { timeoutMs: 1000 });
  const a = await keys.create("vol-a");
  assert.equal(a.length, 64);
  assert.deepEqual(await keys.fetch("vol-a"), a, "the same key at every stage");
  assert.notDeepEqual(await keys.fetch("vol-b"), a);
  const other = volumeKeysFrom("secret", {
    encryptionMasterKey: btoa(String.fromCharCode(...new Uint8Array(32).fill(8))),
  }, { timeoutMs: 1000 });
  assert.notDeepEqual(await other.fetch("vol-a"), a, "another master key, another volume key");
});

Deno.test("volumeKeysFrom() names missing and bad secrets without their values", () => {
  assert.throws(
    () => volumeKeysFrom("secret", {}, { timeoutMs: 1000 }),
    /lack "encryptionMasterKey" \(needed for kms: secret\)/,
  );
  assert.throws(
    () => volumeKeysFrom("secret", { encryptionMasterKey: "c2hvcnQ=" }, { timeoutMs: 1000 }),
    (e) =>
      e instanceof TypeError && /has 5 bytes; it needs at least 32/.test(e.message) &&
      !e.message.includes("c2hvcnQ"),
  );
  assert.throws(
    () => volumeKeysFrom("secret", { encryptionMasterKey: "%%%" }, { timeoutMs: 1000 }),
    /not base64/,
  );
  assert.throws(
    () => volumeKeysFrom("kmip", { kmipEndpoint: "k:5696", kmipCaCert: "x" }, { timeoutMs: 1000 }),
    /lack "kmipClientCert", "kmipClientKey" \(needed for kms: kmip\)/,
  );
  const cert = "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n";
  const kmip = {
    kmipEndpoint: "k",
    kmipCaCert: cert,
    kmipClientCert: cert,
    kmipClientKey: "secretbytes",
  };
  assert.throws(
    () => volumeKeysFrom("kmip", kmip, { timeoutMs: 1000 }),
    (e) =>
      e instanceof TypeError && /"kmipClientKey" is not PEM/.test(e.message) &&
      !e.message.includes("secretbytes"),
  );
  assert.throws(
    () => volumeKeysFrom("kmip", { ...kmip, kmipCaCert: "nope" }, { timeoutMs: 1000 }),
    /"kmipCaCert" is not PEM \(no -----BEGIN CERTIFICATE----- line\)/,
  );
});

Deno.test("parseEndpoint() reads host, host:port and [v6]:port, with port 5696 by default", () => {
  assert.deepEqual(parseEndpoint("kmip.example.com"), { host: "kmip.example.com", port: 5696 });
  assert.deepEqual(parseEndpoint("10.0.0.5:15696"), { host: "10.0.0.5", port: 15696 });
  assert.deepEqual(parseEndpoint("[fd00::1]:5696"), { host: "fd00::1", port: 5696 });
  assert.throws(() => parseEndpoint("https://kmip:5696"), /not host:port/);
  assert.throws(() => parseEndpoint("kmip:99999"), /not host:port/);
});
