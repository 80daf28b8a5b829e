import assert from "node:assert/strict";
import { parseVolumeEncryption } from "./encryption_context.ts";
import { resolveVolume } from "../node/volume_spec.ts";

const ID = "00112233445566778899aabbccddeeff";

Deno.test("parseVolumeEncryption() reads both attributes or none, and refuses half or bad ones", () => {
  assert.deepEqual(parseVolumeEncryption({ source: "x" }), {});
  assert.deepEqual(parseVolumeEncryption({ encryption: "kmip", encryptionKeyId: ID }), {
    encryption: { kms: "kmip", keyIdentifier: ID },
  });
  assert.throws(
    () => parseVolumeEncryption({ encryption: "kmip" }),
    /"encryptionKeyId" "" is not 32 hex/,
  );
  assert.throws(
    () => parseVolumeEncryption({ encryptionKeyId: ID }),
    /"encryption" "" is not kmip or secret/,
  );
  assert.throws(
    () => parseVolumeEncryption({ encryption: "vault", encryptionKeyId: ID }),
    /"vault" is not kmip or secret/,
  );
});

Deno.test("resolveVolume() accepts the encryption attributes CreateVolume writes", () => {
  const spec = resolveVolume({
    volumeId: "v",
    volumeContext: {
      source: "10.0.0.1@tcp:/fs1",
      subdir: "k8s/v",
      encryption: "secret",
      encryptionKeyId: ID,
    },
    mountFlags: [],
    defaultMountOptions: [],
  });
  assert.deepEqual(spec.encryption, { kms: "secret", keyIdentifier: ID });
});
