/**
 * The `settings` part of charts/klustre-csi/values.schema.json, derived from
 * the settings table (src/settings.ts) and the config loader's own checks, so
 * Helm refuses an unknown or mistyped setting before anything is rendered.
 *
 *   deno run --allow-read --allow-write scripts/chart_schema.ts --write   # update the file
 *   deno run --allow-read scripts/chart_schema.ts --check                  # exit 1 when stale
 */
import { type Setting, SETTINGS } from "../src/settings.ts";
import { LOG_LEVELS, parseConfig } from "../src/config.ts";

/** The chart's values schema. */
export const SCHEMA_PATH = new URL("../charts/klustre-csi/values.schema.json", import.meta.url);

/** A JSON schema node. */
export type Schema = Record<string, unknown>;

/** Whether the config loader accepts `text` for a setting given as a flag. */
function accepts(setting: Setting, text: string): boolean {
  try {
    parseConfig("controller", [`--${setting.flag}=${text}`], {
      env: {},
      readTextFile: () => "",
    });
    return true;
  } catch {
    return false;
  }
}

/** The smallest and largest whole number the config loader accepts for a duration. */
function durationBounds(setting: Setting): { minimum: number; maximum: number } {
  const minimum = accepts(setting, "0") ? 0 : 1;
  let low = minimum; // accepted
  let high = Number.MAX_SAFE_INTEGER; // assumed refused
  if (accepts(setting, String(high))) return { minimum, maximum: high };
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (accepts(setting, String(middle))) low = middle;
    else high = middle;
  }
  return { minimum, maximum: low };
}

/** The schema of one setting's value in a values file. */
export function settingSchema(setting: Setting): Schema {
  const description = setting.help;
  switch (setting.kind) {
    case "duration":
      return {
        type: "integer",
        ...durationBounds(setting),
        default: Number(setting.defaultValue),
        description,
      };
    case "boolean":
      return { type: "boolean", default: setting.defaultValue === "true", description };
    case "level":
      return { enum: [...LOG_LEVELS], default: setting.defaultValue, description };
    case "path":
      return { type: "string", pattern: "^/", default: setting.defaultValue, description };
    case "endpoint":
      return { type: "string", pattern: "^unix:", default: setting.defaultValue, description };
    case "options":
      return {
        anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }],
        default: setting.defaultValue,
        description,
      };
    case "string":
      return { type: "string", default: setting.defaultValue, description };
  }
}

/** The schema of `settings`: every key of the settings table and nothing else. */
export function settingsSchema(): Schema {
  return {
    type: "object",
    description: "Driver settings (the klustre-csi-settings ConfigMap); generated from " +
      "src/settings.ts by scripts/chart_schema.ts",
    additionalProperties: false,
    properties: Object.fromEntries(SETTINGS.map((s) => [s.key, settingSchema(s)])),
  };
}

/** The schema file's text with its `settings` part regenerated. */
export function updatedSchemaText(current: string): string {
  const schema = JSON.parse(current) as { properties: Record<string, Schema> };
  schema.properties.settings = settingsSchema();
  return JSON.stringify(schema, null, 2) + "\n";
}

if (import.meta.main) {
  const current = Deno.readTextFileSync(SCHEMA_PATH);
  const updated = updatedSchemaText(current);
  if (Deno.args.includes("--write")) {
    if (updated !== current) Deno.writeTextFileSync(SCHEMA_PATH, updated);
  } else if (updated !== current) {
    console.error(
      "charts/klustre-csi/values.schema.json is stale: run " +
        "deno run --allow-read --allow-write scripts/chart_schema.ts --write",
    );
    Deno.exit(1);
  }
}
