/**
 * A developer's first run: no npm lifecycle script is left unapproved (Deno
 * would warn "Ignored build scripts"), and the README and docs link only to
 * files inside the repository or to web pages, never to files beside it.
 */
import assert from "node:assert/strict";
import { ROOT } from "./support/manifests.ts";

/** `npm:name@version` of every locked npm package that has a lifecycle script. */
function packagesWithScripts(lock: { npm?: Record<string, { scripts?: boolean }> }): string[] {
  return Object.entries(lock.npm ?? {}).filter(([, p]) => p.scripts).map(([id]) => `npm:${id}`)
    .map((id) => id.replace(/_.*$/, "")).sort();
}

/** Relative link targets (no scheme, no pure anchor) of the Markdown links in a text. */
function relativeLinks(text: string): string[] {
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1])
    .filter((href) => !/^[a-z]+:/i.test(href) && !href.startsWith("#"));
}

Deno.test("deno.json allowScripts decides every locked npm package's lifecycle script", () => {
  const lock = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.lock`));
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  const decided = new Set([
    ...config.allowScripts?.allow ?? [],
    ...config.allowScripts?.deny ?? [],
  ]);
  const withScripts = packagesWithScripts(lock);
  assert.ok(withScripts.length > 0, "the lock marks packages with scripts");
  assert.deepEqual(withScripts.filter((id) => !decided.has(id)), [], "approve or deny these");
  assert.deepEqual([...decided].filter((id) => !withScripts.includes(id)), [], "stale entries");
});

Deno.test("README and docs link only to files that exist inside the repository", () => {
  const files = [
    "README.md",
    ...[...Deno.readDirSync(`${ROOT}docs`)]
      .filter((e) => e.isFile && e.name.endsWith(".md")).map((e) => `docs/${e.name}`),
  ];
  const bad: string[] = [];
  for (const file of files) {
    const dir = new URL(file, `file://${ROOT}`);
    const text = Deno.readTextFileSync(`${ROOT}${file}`);
    if (text.includes("../shared/")) bad.push(`${file}: mentions ../shared/`);
    for (const href of relativeLinks(text)) {
      const target = decodeURIComponent(new URL(href.split("#")[0], dir).pathname);
      let exists = true;
      try {
        Deno.statSync(target);
      } catch {
        exists = false;
      }
      if (!target.startsWith(ROOT) || !exists) bad.push(`${file}: ${href}`);
    }
  }
  assert.deepEqual(bad, []);
});
