/**
 * Makes a loggable copy of a CSI message: every field the spec marks
 * `csi_secret` is replaced, and so is the service-account token that
 * kubelet may put in the volume context.
 */
import { type DescMessage, hasOption, type Message, toJson } from "@bufbuild/protobuf";
import { csi_secret } from "../csi/gen/csi_pb.ts";

/** Replacement text for a removed value. */
export const REDACTED = "[REDACTED]";

/** Volume-context keys whose values are credentials. */
const SECRET_CONTEXT_KEY = /(^|\/)serviceAccount\.tokens$/i;

/** JSON of `message` with secrets replaced. */
export function redactMessage(schema: DescMessage, message: Message): Record<string, unknown> {
  const json = toJson(schema, message, { alwaysEmitImplicit: false }) as Record<string, unknown>;
  return redactJson(schema, json);
}

function redactJson(schema: DescMessage, json: Record<string, unknown>): Record<string, unknown> {
  for (const field of schema.fields) {
    const value = json[field.jsonName];
    if (value === undefined) continue;
    if (hasOption(field, csi_secret)) {
      json[field.jsonName] = REDACTED;
    } else if (field.fieldKind === "message" && isObject(value)) {
      redactJson(field.message, value);
    } else if (field.fieldKind === "list" && field.listKind === "message" && Array.isArray(value)) {
      for (const item of value) if (isObject(item)) redactJson(field.message, item);
    } else if (field.fieldKind === "map" && isObject(value)) {
      for (const key of Object.keys(value)) {
        if (SECRET_CONTEXT_KEY.test(key)) value[key] = REDACTED;
        else if (field.mapKind === "message" && isObject(value[key])) {
          redactJson(field.message, value[key] as Record<string, unknown>);
        }
      }
    }
  }
  return json;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
