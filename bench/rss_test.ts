import assert from "node:assert/strict";
import { parseRssKiB, readRssKiB, readThreads, RssSampler } from "./rss.ts";

Deno.test("parseRssKiB() reads the VmRSS line", () => {
  const status = "Name:\tdeno\nVmPeak:\t  900 kB\nVmRSS:\t   81234 kB\nThreads:\t9\n";
  assert.equal(parseRssKiB(status), 81234);
  assert.throws(() => parseRssKiB("Name:\tkthreadd\n"), SyntaxError);
});

Deno.test("RssSampler.stop() returns this process's peak resident memory", async () => {
  const sampler = new RssSampler(Deno.pid, 5);
  await sampler.start();
  await new Promise((resolve) => setTimeout(resolve, 30));
  const { peakKiB, samples } = await sampler.stop();
  assert.ok(samples >= 2);
  assert.ok(peakKiB >= (await readRssKiB(Deno.pid)) / 2 && peakKiB > 1000);
});

Deno.test("readThreads() counts this process's threads", async () => {
  assert.ok((await readThreads(Deno.pid)) >= 1);
});
