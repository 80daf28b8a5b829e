import assert from "node:assert/strict";
import { checkRule, parsePcc, pccAddParam, roidOf, ruleForProject } from "./pcc_params.ts";

Deno.test("checkRule() accepts the kernel's rule grammar and refuses anything else, naming the term", () => {
  checkRule("projid={500 600}&fname={*.h5},uid={1001}");
  checkRule("projid={100}&size>{1M}&size<{500G}");
  checkRule("uid<{1500}&uid>{1000}");
  assert.throws(() => checkRule("fname=*.h5"), /"fname=\*\.h5" is not KEY=\{VALUE \.\.\.\}/);
  assert.throws(() => checkRule("owner={1}"), /key "owner" is not uid, gid, projid, size or fname/);
  assert.throws(() => checkRule("fname>{a}"), /takes one number, not for fname/);
  assert.throws(() => checkRule("uid<{1 2}"), /takes one number/);
  assert.throws(() => checkRule("uid={alice}"), /uid values must be numbers/);
  assert.throws(() => checkRule("uid={1},,gid={2}"), /empty alternative/);
});

Deno.test("parsePcc() reads hotNodes with defaults and refuses bad percentages, paths and stray keys", () => {
  const params = (extra: Record<string, string>) => (key: string) =>
    ({ hotNodes: "true", pccCache: "/nvme/pcc", ...extra } as Record<string, string>)[key];
  assert.deepEqual(parsePcc(params({ pccAutocache: "fname={*.h5}" })), {
    cache: "/nvme/pcc",
    rule: "fname={*.h5}",
    highUsage: 90,
    lowUsage: 70,
    intervalS: 30,
  });
  assert.equal(parsePcc(() => undefined), undefined);
  assert.throws(
    () => parsePcc(params({ pccCache: "nvme/pcc" })),
    /"pccCache" "nvme\/pcc" is not an absolute/,
  );
  assert.throws(() => parsePcc(params({ pccCache: "/nvme/pcc/" })), /no trailing/);
  assert.throws(
    () => parsePcc(params({ pccPurgeHighUsage: "101" })),
    /"pccPurgeHighUsage" "101" is not 1 to 100/,
  );
  assert.throws(() => parsePcc(params({ pccPurgeInterval: "0" })), /"pccPurgeInterval" "0"/);
  assert.throws(
    () => parsePcc((k) => ({ pccCache: "/x" } as Record<string, string>)[k]),
    /"pccCache" needs hotNodes/,
  );
});

Deno.test("ruleForProject() limits every alternative to the project; pccAddParam() makes a read-only dataset", () => {
  assert.equal(
    ruleForProject("fname={*.h5},uid={7}", 42),
    "fname={*.h5}&projid={42},uid={7}&projid={42}",
  );
  assert.equal(ruleForProject("", 42), "projid={42}");
  assert.equal(
    pccAddParam(["projid={1}", "projid={2}"], 9),
    "projid={1},projid={2} roid=9 ropcc=1",
  );
  assert.equal(roidOf("/nvme/pcc"), roidOf("/nvme/pcc"));
  assert.ok(roidOf("/nvme/pcc") >= 1 && roidOf("/nvme/pcc") <= 65535);
});
