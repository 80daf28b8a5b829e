/**
 * KMIP's TTLV encoding (KMIP 1.4 specification, section 9.1): every item is
 * a 3-byte tag, a 1-byte type, a 4-byte length and a value padded to a
 * multiple of 8 bytes; a structure's value is its items one after another.
 */

/** Item types (the type byte). */
export const TtlvType = {
  structure: 0x01,
  integer: 0x02,
  longInteger: 0x03,
  bigInteger: 0x04,
  enumeration: 0x05,
  boolean: 0x06,
  textString: 0x07,
  byteString: 0x08,
  dateTime: 0x09,
  interval: 0x0a,
} as const;

/** One TTLV item. */
export type Ttlv =
  | { readonly tag: number; readonly type: "structure"; readonly value: readonly Ttlv[] }
  | {
    readonly tag: number;
    readonly type: "integer" | "enumeration" | "interval";
    readonly value: number;
  }
  | { readonly tag: number; readonly type: "longInteger" | "bigInteger"; readonly value: bigint }
  | { readonly tag: number; readonly type: "dateTime"; readonly value: bigint }
  | { readonly tag: number; readonly type: "boolean"; readonly value: boolean }
  | { readonly tag: number; readonly type: "textString"; readonly value: string }
  | { readonly tag: number; readonly type: "byteString"; readonly value: Uint8Array };

/** Bytes that are not valid TTLV. */
export class TtlvError extends Error {
  override name = "TtlvError";
}

const TYPE_NAMES = Object.fromEntries(
  Object.entries(TtlvType).map(([name, code]) => [code, name]),
) as Record<number, Ttlv["type"]>;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function padded(length: number): number {
  return Math.ceil(length / 8) * 8;
}

/** Two's complement big-endian bytes of `value`, sign-extended to a multiple of 8 bytes. */
function bigIntegerBytes(value: bigint): Uint8Array {
  let bytes = 8;
  while (value >= 1n << BigInt(bytes * 8 - 1) || value < -(1n << BigInt(bytes * 8 - 1))) bytes += 8;
  const out = new Uint8Array(bytes);
  let rest = BigInt.asUintN(bytes * 8, value);
  for (let i = bytes - 1; i >= 0; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

/** The value bytes of an item (unpadded) . */
function valueBytes(item: Ttlv): Uint8Array {
  const fixed = (size: number, write: (view: DataView) => void) => {
    const out = new Uint8Array(size);
    write(new DataView(out.buffer));
    return out;
  };
  switch (item.type) {
    case "structure":
      return concat(item.value.map(encodeTtlv));
    case "integer":
    case "enumeration":
    case "interval":
      return fixed(4, (v) => v.setUint32(0, item.value >>> 0));
    case "longInteger":
    case "dateTime":
      return fixed(8, (v) => v.setBigInt64(0, item.value));
    case "bigInteger":
      return bigIntegerBytes(item.value);
    case "boolean":
      return fixed(8, (v) => v.setBigUint64(0, item.value ? 1n : 0n));
    case "textString":
      return encoder.encode(item.value);
    case "byteString":
      return item.value;
  }
}

/** The TTLV bytes of an item. */
export function encodeTtlv(item: Ttlv): Uint8Array {
  const value = valueBytes(item);
  const out = new Uint8Array(8 + padded(value.length));
  const view = new DataView(out.buffer);
  view.setUint32(0, item.tag << 8 | TtlvType[item.type]);
  view.setUint32(4, value.length);
  out.set(value, 8);
  return out;
}

/**
 * The items encoded in `bytes` (usually one message).
 * @throws TtlvError on a bad type, length or padding
 */
export function decodeTtlv(bytes: Uint8Array): Ttlv[] {
  const items: Ttlv[] = [];
  let at = 0;
  while (at < bytes.length) {
    const [item, next] = decodeOne(bytes, at);
    items.push(item);
    at = next;
  }
  return items;
}

/** The length of the whole message whose first 8 bytes are `header`. */
export function ttlvMessageLength(header: Uint8Array): number {
  const view = new DataView(header.buffer, header.byteOffset, 8);
  return 8 + padded(view.getUint32(4));
}

function decodeOne(bytes: Uint8Array, at: number): [Ttlv, number] {
  if (bytes.length - at < 8) throw new TtlvError(`Truncated TTLV header at byte ${at}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const tag = view.getUint32(at) >>> 8;
  const type = TYPE_NAMES[bytes[at + 3]];
  const length = view.getUint32(at + 4);
  const start = at + 8;
  const end = start + padded(length);
  if (!type) throw new TtlvError(`Unknown TTLV type 0x${bytes[at + 3].toString(16)} at byte ${at}`);
  if (end > bytes.length) throw new TtlvError(`TTLV item at byte ${at} runs past the end`);
  const value = bytes.subarray(start, start + length);
  const fixedLength = {
    integer: 4,
    enumeration: 4,
    interval: 4,
    longInteger: 8,
    dateTime: 8,
    boolean: 8,
  };
  const want = fixedLength[type as keyof typeof fixedLength];
  if (want !== undefined && length !== want) {
    throw new TtlvError(`TTLV ${type} at byte ${at} has length ${length}, not ${want}`);
  }
  if (type !== "structure" && bytes.subarray(start + length, end).some((b) => b !== 0)) {
    throw new TtlvError(`TTLV padding at byte ${start + length} is not zero`);
  }
  const v = new DataView(value.buffer, value.byteOffset, value.length);
  let item: Ttlv;
  switch (type) {
    case "structure":
      item = { tag, type, value: decodeTtlv(value) };
      break;
    case "integer":
      item = { tag, type, value: v.getInt32(0) };
      break;
    case "enumeration":
    case "interval":
      item = { tag, type, value: v.getUint32(0) };
      break;
    case "longInteger":
    case "dateTime":
      item = { tag, type, value: v.getBigInt64(0) };
      break;
    case "bigInteger": {
      if (length % 8 !== 0) throw new TtlvError(`TTLV big integer at byte ${at}: length ${length}`);
      let n = 0n;
      for (const b of value) n = n << 8n | BigInt(b);
      item = { tag, type, value: BigInt.asIntN(length * 8, n) };
      break;
    }
    case "boolean":
      item = { tag, type, value: v.getBigUint64(0) !== 0n };
      break;
    case "textString":
      try {
        item = { tag, type, value: decoder.decode(value) };
      } catch {
        throw new TtlvError(`TTLV text string at byte ${at} is not UTF-8`);
      }
      break;
    case "byteString":
      item = { tag, type, value: value.slice() };
      break;
  }
  return [item, end];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The first child of a structure with `tag`; undefined when there is none. */
export function child(item: Ttlv | undefined, tag: number): Ttlv | undefined {
  return item?.type === "structure" ? item.value.find((c) => c.tag === tag) : undefined;
}

/** Every child of a structure with `tag`. */
export function children(item: Ttlv | undefined, tag: number): Ttlv[] {
  return item?.type === "structure" ? item.value.filter((c) => c.tag === tag) : [];
}
