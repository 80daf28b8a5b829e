/**
 * One truth for settings: README's table, the docs' mentions, the ConfigMap
 * (manifests/configmap.yaml), the chart's values.yaml and values.schema.json
 * and `--help` all agree with the settings table in src/settings.ts: every
 * setting present, with the same flag, environment variables and default.
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { type Setting, SETTINGS } from "../src/settings.ts";
import { SETTINGS_ENV } from "../src/config.ts";
import { SCHEMA_PATH, updatedSchemaText } from "../scripts/chart_schema.ts";
import { runCli } from "./support/driver.ts";
import { container } from "./support/workloads.ts";
import {
  BASE_DIR,
  CHART_DIR,
  find,
  HELM,
  type Obj,
  renderKustomization,
  ROOT,
  runTool,
} from "./support/manifests.ts";

/** Settings the deployments set to something other than the default, and why. */
const DEPLOYED: Record<string, { value: string; why: string }> = {
  metricsAddress: { value: "0.0.0.0:9810", why: "the DaemonSet's metrics port" },
  hostMountNamespace: { value: "/proc/1/ns/mnt", why: "the keeper, with hostPID" },
};
/** Settings the DaemonSet gives through the environment instead of the settings file. */
const FROM_ENV = new Set(["endpoint", "nodeId", "controllerService"]);
/** Settings the chart sets from other values, not from `settings.*`. */
const FROM_OTHER_VALUES = new Set(["kubeletDir", "stateDir", "metricsAddress"]);

/** A settings-file value as the config loader reads it. */
function asText(setting: Setting, value: unknown): string {
  return setting.kind === "options" && Array.isArray(value) ? value.join(",") : String(value);
}

/** The markdown files users read. */
function docs(): { file: string; text: string }[] {
  const files = [
    "README.md",
    ...[...Deno.readDirSync(`${ROOT}docs`)].filter((e) => e.name.endsWith(".md")).map((e) =>
      `docs/${e.name}`
    ).sort(),
  ];
  return files.map((file) => ({ file, text: Deno.readTextFileSync(`${ROOT}${file}`) }));
}

/** README's settings table: key -> its cells. */
function readmeTable(readme: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  const lines = readme.split("\n");
  const header = lines.findIndex((l) => l.startsWith("| Key (file)"));
  assert.ok(header >= 0, "README has the settings table");
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith("|")) break;
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    const key = /^`([A-Za-z]+)`$/.exec(cells[0]);
    assert.ok(key, `a README settings row names its key: ${line}`);
    rows.set(key[1], cells);
  }
  return rows;
}

Deno.test("README's settings table lists every setting with its flag, environment and default", () => {
  const readme = Deno.readTextFileSync(`${ROOT}README.md`);
  const flat = readme.replace(/\s+/g, " ");
  const rows = readmeTable(readme);
  assert.deepEqual([...rows.keys()], SETTINGS.map((s) => s.key), "one row per setting, in order");
  for (const s of SETTINGS) {
    const [, flag, env, defaultCell] = rows.get(s.key)!;
    assert.equal(flag, `\`--${s.flag}\``, `${s.key}: flag`);
    assert.equal(env, s.env.map((e) => `\`${e}\``).join(", "), `${s.key}: environment`);
    if (s.defaultValue === "") {
      assert.match(defaultCell, /^(empty|none)\b/, `${s.key}: default is empty`);
    } else if (defaultCell.endsWith("(below)")) {
      assert.ok(
        flat.includes(`\`${s.key}\` defaults to \`${s.defaultValue}\``),
        `${s.key}: README says "\`${s.key}\` defaults to \`${s.defaultValue}\`" below the table`,
      );
    } else {
      assert.equal(defaultCell, `\`${s.defaultValue}\``, `${s.key}: default`);
    }
  }
});

Deno.test("the docs name settings, flags, variables and defaults as the settings table does", () => {
  const byKey = new Map(SETTINGS.map((s) => [s.key as string, s]));
  const byFlag = new Map(SETTINGS.map((s) => [s.flag, s]));
  const envs = new Set([SETTINGS_ENV, ...SETTINGS.flatMap((s) => s.env)]);
  const problems: string[] = [];
  for (const { file, text } of docs()) {
    const flat = text.replace(/\s+/g, " ");
    for (const [, key] of flat.matchAll(/(?<![\w/])settings\.([A-Za-z]+)/g)) {
      if (key !== "yaml" && !byKey.has(key)) {
        problems.push(`${file}: settings.${key} is not a setting`);
      }
    }
    for (const [name] of flat.matchAll(/\bKLUSTRE_[A-Z_]+\b/g)) {
      if (!envs.has(name) && !name.startsWith("KLUSTRE_DEMO")) {
        problems.push(`${file}: ${name} is not a setting's variable`);
      }
    }
    // In one parenthesis: a setting's flag, its variable(s) and its default.
    for (const [group] of flat.matchAll(/\([^()]*`--[a-z-]+`[^()]*\)/g)) {
      const flags = [...group.matchAll(/`--([a-z-]+)`/g)].map((m) => byFlag.get(m[1]));
      if (flags.length !== 1 || !flags[0]) continue;
      const s = flags[0];
      for (const [name] of group.matchAll(/\bKLUSTRE_[A-Z_]+\b|\bCSI_ENDPOINT\b/g)) {
        if (!s.env.includes(name)) problems.push(`${file}: ${name} beside --${s.flag}: ${group}`);
      }
      const stated = /default `([^`]*)`/.exec(group);
      if (stated && stated[1] !== s.defaultValue) {
        problems.push(`${file}: --${s.flag} default "${stated[1]}" is "${s.defaultValue}"`);
      }
    }
    // "`key` (default 100 s)", "`key`, 100 s by default"
    for (
      const [, key, a, b] of flat.matchAll(
        /`([A-Za-z]+)`(?: \(default (\d+) s\)|, (\d+) s by default)/g,
      )
    ) {
      const s = byKey.get(key);
      const seconds = Number(a ?? b);
      if (s && s.kind === "duration" && Number(s.defaultValue) !== seconds * 1000) {
        problems.push(`${file}: ${key} "${seconds} s" by default, it is ${s.defaultValue} ms`);
      }
    }
    // "`key: value` (the default)"
    for (const [, key, value] of flat.matchAll(/`([A-Za-z]+): ([^`]*)` \(the default\)/g)) {
      const s = byKey.get(key);
      if (s && s.defaultValue !== value) {
        problems.push(
          `${file}: ${key} "${value}" is called the default, it is "${s.defaultValue}"`,
        );
      }
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("--help of node and controller shows every setting's flag, variables and default", async () => {
  const help = await Promise.all(["node", "controller"].map((c) => runCli([c, "--help"])));
  for (const result of help) assert.equal(result.code, 0, result.stderr);
  const lines = help.flatMap((r) => r.stdout.split("\n"));
  for (const s of SETTINGS) {
    // A setting's entry: its flag's line and the indented lines after it.
    const start = lines.findIndex((l) => l.trimStart().startsWith(`--${s.flag} `));
    assert.ok(start >= 0, `--help lists --${s.flag}`);
    const next = lines.findIndex((l, i) => i > start && /^\s*--|^\S/.test(l));
    const entry = lines.slice(start, next < 0 ? undefined : next).join(" ");
    for (const name of s.env) assert.ok(entry.includes(name), `--${s.flag}: --help names ${name}`);
    if (s.defaultValue !== "") {
      assert.ok(entry.includes(s.defaultValue), `--${s.flag}: --help shows ${s.defaultValue}`);
    }
  }
});

/** The settings file of the kustomize base's ConfigMap. */
function configMapSettings(): Record<string, unknown> {
  const configMap = find(renderKustomization(BASE_DIR), "ConfigMap", "klustre-csi-settings");
  return parseYaml(configMap.data["settings.yaml"]);
}

Deno.test("the ConfigMap holds every setting with its default, or says where it comes from", () => {
  const file = configMapSettings();
  const daemonSet = find(renderKustomization(BASE_DIR), "DaemonSet", "klustre-csi-node");
  const envNames = new Set((container(daemonSet, "klustre-csi").env as Obj[]).map((e) => e.name));
  for (const s of SETTINGS) {
    if (FROM_ENV.has(s.key)) {
      assert.ok(!(s.key in file), `${s.key} comes from the environment, not the file`);
      assert.ok(s.env.some((e) => envNames.has(e)), `the DaemonSet sets ${s.env.join(" or ")}`);
      continue;
    }
    assert.ok(s.key in file, `manifests/configmap.yaml lacks ${s.key}`);
    const expected = DEPLOYED[s.key]?.value ?? s.defaultValue;
    assert.equal(asText(s, file[s.key]), expected, `manifests/configmap.yaml: ${s.key}`);
  }
  const known = new Set<string>(SETTINGS.map((s) => s.key));
  for (const key of Object.keys(file)) assert.ok(known.has(key), `unknown setting ${key}`);
});

Deno.test("the chart's values.yaml settings are the ConfigMap's, less those set from other values", () => {
  const values = parseYaml(Deno.readTextFileSync(`${CHART_DIR}/values.yaml`)).settings;
  const file = configMapSettings();
  const expected = Object.fromEntries(
    Object.entries(file).filter(([key]) => !FROM_OTHER_VALUES.has(key)),
  );
  assert.deepEqual(
    Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)])),
    Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, String(v)])),
  );
});

Deno.test("values.schema.json's settings are generated from the settings table", () => {
  const current = Deno.readTextFileSync(SCHEMA_PATH);
  assert.equal(
    updatedSchemaText(current),
    current,
    "stale: deno run --allow-read --allow-write scripts/chart_schema.ts --write",
  );
  const schema = JSON.parse(current);
  assert.deepEqual(
    Object.keys(schema.properties.settings.properties),
    SETTINGS.map((s) => s.key),
  );
  assert.equal(schema.properties.settings.additionalProperties, false);
  assert.equal(schema.additionalProperties, false);
});

Deno.test({
  name: "helm template refuses unknown and mistyped settings and values",
  ignore: !HELM,
  fn() {
    const template = (...set: string[]) =>
      runTool(HELM!, ["template", "k", CHART_DIR, ...set.flatMap((s) => ["--set", s])]);
    const refused: [string, RegExp][] = [
      ["settings.bogus=1", /additional properties 'bogus' not allowed/],
      ["settings.mountTimeoutMs=soon", /settings\/mountTimeoutMs/],
      ["settings.mountTimeoutMs=0", /settings\/mountTimeoutMs/],
      ["settings.logLevel=loud", /settings\/logLevel/],
      ["settings.allowSuidDevVolumes=yes", /settings\/allowSuidDevVolumes/],
      ["settings.kubeletDir=relative", /settings\/kubeletDir/],
      ["contoller.enabled=true", /additional properties 'contoller' not allowed/],
      ["controller.enabled=yes", /controller\/enabled/],
      ["ports.metrics=70000", /ports\/metrics/],
    ];
    for (const [set, message] of refused) {
      const result = template(set);
      assert.notEqual(result.code, 0, `--set ${set} is refused`);
      assert.match(result.stderr, message, set);
    }
    for (
      const set of [
        "settings.logLevel=debug",
        "settings.hostMountNamespace=",
        "settings.probeCacheMs=0",
        "settings.defaultMountOptions={flock,noatime}",
        "controller.enabled=true",
      ]
    ) {
      const result = template(set);
      assert.equal(result.code, 0, `--set ${set}: ${result.stderr}`);
    }
  },
});
