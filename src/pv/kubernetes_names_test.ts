import assert from "node:assert/strict";
import { isDns1123Label, isDns1123Subdomain } from "./kubernetes_names.ts";

Deno.test("isDns1123Label() accepts namespace names and refuses the rest", () => {
  for (const ok of ["default", "team-a", "a", "a1", "x".repeat(63)]) {
    assert.ok(isDns1123Label(ok), ok);
  }
  for (const bad of ["", "Team", "a_b", "-a", "a-", "a.b", "x".repeat(64)]) {
    assert.ok(!isDns1123Label(bad), bad);
  }
});

Deno.test("isDns1123Subdomain() accepts dotted names up to 253 characters", () => {
  for (const ok of ["lustre-pv", "pv.team-a", "a.b.c", `${"a".repeat(63)}.${"b".repeat(63)}`]) {
    assert.ok(isDns1123Subdomain(ok), ok);
  }
  for (const bad of ["", "PV", "a..b", ".a", "a.", "a/b", "a b", "a".repeat(254)]) {
    assert.ok(!isDns1123Subdomain(bad), bad);
  }
});
