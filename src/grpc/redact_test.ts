import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { CreateVolumeRequestSchema, NodePublishVolumeRequestSchema } from "../csi/gen/csi_pb.ts";
import { REDACTED, redactMessage } from "./redact.ts";

Deno.test("redactMessage() replaces every csi_secret field and the service-account token", () => {
  const publish = redactMessage(
    NodePublishVolumeRequestSchema,
    create(NodePublishVolumeRequestSchema, {
      volumeId: "v",
      secrets: { key: "s3cret" },
      volumeContext: { source: "x", "csi.storage.k8s.io/serviceAccount.tokens": "tok" },
    }),
  );
  assert.equal(publish.secrets, REDACTED);
  assert.deepEqual(publish.volumeContext, {
    source: "x",
    "csi.storage.k8s.io/serviceAccount.tokens": REDACTED,
  });
  const createRequest = redactMessage(
    CreateVolumeRequestSchema,
    create(CreateVolumeRequestSchema, {
      name: "n",
      secrets: { a: "b" },
      parameters: { source: "s" },
    }),
  );
  assert.equal(createRequest.secrets, REDACTED);
  assert.deepEqual(createRequest.parameters, { source: "s" });
  assert.doesNotMatch(JSON.stringify([publish, createRequest]), /s3cret|"tok"|"b"/);
});
