import assert from "node:assert/strict";
import { handleHttpRequest, type HttpRouteDeps } from "./http_routes.ts";
import type { Readiness } from "../identity_server.ts";
import { FakeLogger } from "../fake_logger.ts";

function deps(readiness: Readiness, scrape = () => Promise.resolve("m 1\n")): HttpRouteDeps {
  return { scrape, readiness: () => Promise.resolve(readiness), logger: new FakeLogger() };
}

const READY = { ready: true, reasons: [] };

function get(path: string, method = "GET") {
  return new Request(`http://localhost${path}`, { method });
}

Deno.test("handleHttpRequest() serves /metrics in the text format", async () => {
  const response = await handleHttpRequest(get("/metrics"), deps(READY));
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  assert.equal(await response.text(), "m 1\n");
});

Deno.test("handleHttpRequest() answers /healthz 200 when ready and 503 with the reasons when not", async () => {
  const ok = await handleHttpRequest(get("/healthz"), deps(READY));
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), "ok\n");
  const reasons = ["Lustre modules do not answer: no", "mount.lustre is not usable: gone"];
  const down = await handleHttpRequest(get("/healthz"), deps({ ready: false, reasons }));
  assert.equal(down.status, 503);
  assert.equal(await down.text(), `not ready:\n- ${reasons[0]}\n- ${reasons[1]}\n`);
});

Deno.test("handleHttpRequest() answers 404, 405 and 500 where due", async () => {
  const cases: [Request, HttpRouteDeps, number][] = [
    [get("/"), deps(READY), 404],
    [get("/metrics", "POST"), deps(READY), 405],
    [get("/metrics"), deps(READY, () => Promise.reject(new Error("mountinfo"))), 500],
  ];
  for (const [request, routeDeps, status] of cases) {
    const response = await handleHttpRequest(request, routeDeps);
    await response.body?.cancel();
    assert.equal(response.status, status, `${request.method} ${request.url}`);
  }
});
