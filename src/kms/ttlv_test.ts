/**
 * The codec against the encoding examples of the KMIP 1.4 specification
 * (section 9.1.2, "Examples"), all with tag 0x420020.
 */
import assert from "node:assert/strict";
import { decodeTtlv, encodeTtlv, type Ttlv, TtlvError, ttlvMessageLength } from "./ttlv.ts";

function hex(text: string): Uint8Array {
  return new Uint8Array(text.replace(/[\s|]/g, "").match(/../g)!.map((b) => parseInt(b, 16)));
}

const TAG = 0x420020;
const SPEC_EXAMPLES: [string, Ttlv, string][] = [
  [
    "an Integer 8",
    { tag: TAG, type: "integer", value: 8 },
    "42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00",
  ],
  [
    "a Long Integer 123456789000000000",
    { tag: TAG, type: "longInteger", value: 123456789000000000n },
    "42 00 20 | 03 | 00 00 00 08 | 01 B6 9B 4B A5 74 92 00",
  ],
  [
    "a Big Integer 1234567890000000000000000000",
    { tag: TAG, type: "bigInteger", value: 1234567890000000000000000000n },
    "42 00 20 | 04 | 00 00 00 10 | 00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00",
  ],
  [
    "an Enumeration 255",
    { tag: TAG, type: "enumeration", value: 255 },
    "42 00 20 | 05 | 00 00 00 04 | 00 00 00 FF 00 00 00 00",
  ],
  [
    "a Boolean True",
    { tag: TAG, type: "boolean", value: true },
    "42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 01",
  ],
  [
    'a Text String "Hello World"',
    { tag: TAG, type: "textString", value: "Hello World" },
    "42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00",
  ],
  [
    "a Byte String 0x010203",
    { tag: TAG, type: "byteString", value: new Uint8Array([1, 2, 3]) },
    "42 00 20 | 08 | 00 00 00 03 | 01 02 03 00 00 00 00 00",
  ],
  [
    "a Date-Time Friday, March 14, 2008, 11:56:40 GMT",
    { tag: TAG, type: "dateTime", value: 0x47da67f8n },
    "42 00 20 | 09 | 00 00 00 08 | 00 00 00 00 47 DA 67 F8",
  ],
  [
    "an Interval of 10 days",
    { tag: TAG, type: "interval", value: 864000 },
    "42 00 20 | 0A | 00 00 00 04 | 00 0D 2F 00 00 00 00 00",
  ],
  [
    "a Structure of an Enumeration 254 and an Integer 255",
    {
      tag: TAG,
      type: "structure",
      value: [
        { tag: 0x420004, type: "enumeration", value: 254 },
        { tag: 0x420005, type: "integer", value: 255 },
      ],
    },
    "42 00 20 | 01 | 00 00 00 20 | 42 00 04 | 05 | 00 00 00 04 | 00 00 00 FE 00 00 00 00 | " +
    "42 00 05 | 02 | 00 00 00 04 | 00 00 00 FF 00 00 00 00",
  ],
];

for (const [name, item, bytes] of SPEC_EXAMPLES) {
  Deno.test(`encodeTtlv() and decodeTtlv() match the specification's example of ${name}`, () => {
    assert.deepEqual(encodeTtlv(item), hex(bytes));
    assert.deepEqual(decodeTtlv(hex(bytes)), [item]);
  });
}

Deno.test("encodeTtlv() writes negative integers in two's complement", () => {
  const item: Ttlv = { tag: TAG, type: "integer", value: -1 };
  assert.deepEqual(encodeTtlv(item), hex("420020 02 00000004 FFFFFFFF 00000000"));
  assert.deepEqual(decodeTtlv(encodeTtlv(item)), [item]);
  const big: Ttlv = { tag: TAG, type: "bigInteger", value: -2n };
  assert.deepEqual(encodeTtlv(big), hex("420020 04 00000008 FFFFFFFFFFFFFFFE"));
  assert.deepEqual(decodeTtlv(encodeTtlv(big)), [big]);
});

Deno.test("decodeTtlv() refuses bad types, lengths, padding and truncation", () => {
  assert.throws(
    () => decodeTtlv(hex("420020 0B 00000004 00000008 00000000")),
    /Unknown TTLV type 0xb/,
  );
  assert.throws(() => decodeTtlv(hex("420020 02 00000008 00000000 00000008")), /length 8, not 4/);
  assert.throws(() => decodeTtlv(hex("420020 08 00000003 010203FF 00000000")), /padding/);
  assert.throws(() => decodeTtlv(hex("420020 07 00000010 48656C6C 6F000000")), TtlvError);
  assert.throws(() => decodeTtlv(hex("420020 02 000000")), /Truncated/);
  assert.throws(() => decodeTtlv(hex("420020 07 00000001 FF000000 00000000")), /not UTF-8/);
});

Deno.test("ttlvMessageLength() reads the whole length from the header", () => {
  assert.equal(ttlvMessageLength(hex("420078 01 00000020")), 40);
  assert.equal(ttlvMessageLength(hex("420020 07 0000000B")), 24);
});
