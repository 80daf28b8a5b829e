import assert from "node:assert/strict";
import { parseListenAddress, startHttpServer } from "./http_server.ts";
import { FakeLogger } from "../fake_logger.ts";

Deno.test("parseListenAddress() reads HOST:PORT, [IPv6]:PORT and :PORT", () => {
  const cases: [string, { hostname: string; port: number }][] = [
    ["0.0.0.0:9810", { hostname: "0.0.0.0", port: 9810 }],
    ["127.0.0.1:0", { hostname: "127.0.0.1", port: 0 }],
    ["[::1]:9810", { hostname: "::1", port: 9810 }],
    [":9810", { hostname: "0.0.0.0", port: 9810 }],
    ["localhost:80", { hostname: "localhost", port: 80 }],
  ];
  for (const [address, expected] of cases) assert.deepEqual(parseListenAddress(address), expected);
  for (const bad of ["9810", "host:99999", "a b:1", ""]) {
    assert.throws(() => parseListenAddress(bad), SyntaxError, bad);
  }
});

Deno.test("startHttpServer() serves /healthz on the bound port and stops on shutdown()", async () => {
  const endpoint = await startHttpServer("127.0.0.1:0", {
    scrape: () => Promise.resolve(""),
    readiness: () => Promise.resolve({ ready: true, reasons: [] }),
    logger: new FakeLogger(),
  });
  try {
    assert.ok(endpoint.port > 0);
    const response = await fetch(`http://127.0.0.1:${endpoint.port}/healthz`);
    assert.equal(await response.text(), "ok\n");
  } finally {
    await endpoint.shutdown();
  }
  await assert.rejects(fetch(`http://127.0.0.1:${endpoint.port}/healthz`));
});

Deno.test("startHttpServer() rejects when the port is taken", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deps = {
    scrape: () => Promise.resolve(""),
    readiness: () => Promise.resolve({ ready: true, reasons: [] }),
    logger: new FakeLogger(),
  };
  await assert.rejects(
    startHttpServer(`127.0.0.1:${listener.addr.port}`, deps),
    Deno.errors.AddrInUse,
  );
});
