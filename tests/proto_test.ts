/** The committed generated code matches proto/csi.proto, and the proto matches the spec. */
import assert from "node:assert/strict";
import { generateProto } from "../scripts/gen_proto.ts";
import { REPO, tempDir } from "./support/driver.ts";

Deno.test("src/csi/gen/csi_pb.ts is what `deno task proto` generates from proto/csi.proto", async () => {
  await using dir = await tempDir();
  await generateProto(dir.path);
  const fresh = await Deno.readTextFile(`${dir.path}/csi_pb.ts`);
  const committed = await Deno.readTextFile(`${REPO}/src/csi/gen/csi_pb.ts`);
  assert.ok(fresh === committed, "generated code is stale: run `deno task proto` and commit");
});

Deno.test("proto/csi.proto holds every protobuf block of the CSI v1.12.0 spec, unchanged", async () => {
  const spec = await Deno.readTextFile(`${REPO}/../shared/reference/csi-spec.md`).catch(() => "");
  const proto = await Deno.readTextFile(`${REPO}/proto/csi.proto`);
  assert.match(proto, /CSI v1\.12\.0/);
  if (spec === "") return; // the spec copy lives beside the repo in development and CI
  const blocks = [...spec.matchAll(/```protobuf\n([\s\S]*?)```/g)].map((m) => m[1]).join("");
  assert.ok(proto.endsWith(blocks), "proto/csi.proto differs from the spec's protobuf blocks");
});
