/** Messages against bytes written by another implementation (PyKMIP 0.10, KMIP 1.4). */
import assert from "node:assert/strict";
import {
  decodeResponse,
  identifiers,
  keyMaterial,
  KmipError,
  objectRequest,
} from "./kmip_messages.ts";
import { encodeTtlv, type Ttlv } from "./ttlv.ts";

function hex(text: string): Uint8Array {
  return new Uint8Array(text.match(/../g)!.map((b) => parseInt(b, 16)));
}

/** PyKMIP's RequestMessage of a Get of "1" (protocol 1.4, one batch item). */
const PYKMIP_GET_1 = "42007801000000704200770100000038420069010000002042006a020000000400000001" +
  "0000000042006b0200000004000000040000000042000d0200000004000000010000000042000f01000000" +
  "2842005c05000000040000000a00000000420079010000001042009407000000013100000000000000";

/** PyKMIP's ResponseMessage of a failed Get: Item Not Found, "Could not locate object: 1". */
const PYKMIP_GET_FAILED = "42007b01000000b042007a0100000048420069010000002042006a020000000400" +
  "0000010000000042006b0200000004000000040000000042009209000000080000000047da67f842000d02" +
  "00000004000000010000000042000f010000005842005c05000000040000000a0000000042007f05000000" +
  "04000000010000000042007e0500000004000000010000000042007d070000001a436f756c64206e6f7420" +
  "6c6f63617465206f626a6563743a2031000000000000";

Deno.test("objectRequest() encodes a Get exactly as PyKMIP does", () => {
  assert.deepEqual(objectRequest("get", "1"), hex(PYKMIP_GET_1));
});

Deno.test("decodeResponse() turns a failed batch item into KmipError with reason and message", () => {
  assert.throws(
    () => decodeResponse(hex(PYKMIP_GET_FAILED), "Get"),
    (e) =>
      e instanceof KmipError && e.reason === "Item Not Found" &&
      e.message === "KMIP Get failed: Item Not Found: Could not locate object: 1",
  );
});

const s = (tag: number, value: Ttlv[]): Ttlv => ({ tag, type: "structure", value });

function response(payload: Ttlv[]): Uint8Array {
  return encodeTtlv(s(0x42007b, [
    s(0x42007a, []),
    s(0x42000f, [
      { tag: 0x42007f, type: "enumeration", value: 0 },
      s(0x42007c, payload),
    ]),
  ]));
}

Deno.test("decodeResponse() gives the payload of a success: identifiers and key bytes", () => {
  const located = decodeResponse(
    response([
      { tag: 0x420094, type: "textString", value: "4" },
      { tag: 0x420094, type: "textString", value: "9" },
    ]),
    "Locate",
  );
  assert.deepEqual(identifiers(located), ["4", "9"]);
  const key = new Uint8Array(32).fill(5);
  const raw = s(0x42008f, [
    s(0x420040, [s(0x420045, [{ tag: 0x420043, type: "byteString", value: key }])]),
  ]);
  assert.deepEqual(keyMaterial(decodeResponse(response([raw]), "Get")), key);
  const transparent = s(0x42008f, [
    s(0x420040, [s(0x420045, [s(0x420043, [{ tag: 0x42003f, type: "byteString", value: key }])])]),
  ]);
  assert.deepEqual(keyMaterial(decodeResponse(response([transparent]), "Get")), key);
  assert.throws(
    () => keyMaterial(decodeResponse(response([]), "Get")),
    /no symmetric key material/,
  );
  assert.throws(() => decodeResponse(encodeTtlv(s(0x420078, [])), "Get"), /no KMIP response/);
});
