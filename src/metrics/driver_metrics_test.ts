import assert from "node:assert/strict";
import { DriverMetrics } from "./driver_metrics.ts";
import type { MountInfo } from "../mount/mountinfo.ts";
import { parseExposition } from "../../tests/support/prom_text.ts";
import { testMount } from "../../tests/support/mount_fixture.ts";

const DIR = "/state/mounts";

function shared(name: string, fs: string): MountInfo {
  return testMount(`${DIR}/${name}`, {
    source: `10.0.0.1@tcp:/${fs}`,
    options: [],
    superOptions: [],
  });
}

function metricsWith(mounts: MountInfo[]) {
  return new DriverMetrics({
    mountInfo: () => Promise.resolve(mounts),
    mountsDir: DIR,
    version: "9.9.9",
  });
}

/** The value of one series, whatever order its labels are written in. */
function valueOf(text: string, series: string): number | undefined {
  return parseExposition(text).get(series);
}

Deno.test("DriverMetrics.rpcDone() counts by method and code and observes seconds", async () => {
  const metrics = metricsWith([]);
  metrics.rpcDone("NodePublishVolume", "OK", 30);
  metrics.rpcDone("NodePublishVolume", "OK", 2000);
  metrics.rpcDone("NodePublishVolume", "ABORTED", 1);
  const text = await metrics.scrape();
  assert.equal(
    valueOf(text, 'klustre_csi_operations_total{method="NodePublishVolume",code="OK"}'),
    2,
  );
  assert.equal(
    valueOf(text, 'klustre_csi_operations_total{method="NodePublishVolume",code="ABORTED"}'),
    1,
  );
  assert.equal(
    valueOf(text, 'klustre_csi_operation_duration_seconds_count{method="NodePublishVolume"}'),
    3,
  );
  const sum = valueOf(
    text,
    'klustre_csi_operation_duration_seconds_sum{method="NodePublishVolume"}',
  );
  assert.ok(Math.abs(sum! - 2.031) < 1e-9, `sum ${sum}`);
  assert.equal(
    valueOf(
      text,
      'klustre_csi_operation_duration_seconds_bucket{method="NodePublishVolume",le="0.05"}',
    ),
    2,
  );
});

Deno.test("DriverMetrics.rpcInFlight() goes up and back down", async () => {
  const metrics = metricsWith([]);
  metrics.rpcInFlight("NodeStageVolume", 1);
  metrics.rpcInFlight("NodeStageVolume", 1);
  assert.equal(
    valueOf(await metrics.scrape(), 'klustre_csi_operations_in_flight{method="NodeStageVolume"}'),
    2,
  );
  metrics.rpcInFlight("NodeStageVolume", -1);
  metrics.rpcInFlight("NodeStageVolume", -1);
  assert.equal(
    valueOf(await metrics.scrape(), 'klustre_csi_operations_in_flight{method="NodeStageVolume"}'),
    0,
  );
});

Deno.test("DriverMetrics.commandTimedOut() counts by command", async () => {
  const metrics = metricsWith([]);
  metrics.commandTimedOut("mount.lustre");
  const text = await metrics.scrape();
  assert.equal(valueOf(text, 'klustre_csi_command_timeouts_total{command="mount.lustre"}'), 1);
  assert.equal(valueOf(text, 'klustre_csi_command_timeouts_total{command="lctl"}'), 0);
});

Deno.test("DriverMetrics.volumeChecked() counts volumes whose last check was abnormal", async () => {
  const metrics = metricsWith([]);
  const abnormal = async () => valueOf(await metrics.scrape(), "klustre_csi_volumes_abnormal");
  assert.equal(await abnormal(), 0);
  metrics.volumeChecked("pv-a", true);
  metrics.volumeChecked("pv-a", true);
  metrics.volumeChecked("pv-b", true);
  assert.equal(await abnormal(), 2);
  metrics.volumeChecked("pv-a", false);
  assert.equal(await abnormal(), 1);
  metrics.volumeForgotten("pv-b");
  assert.equal(await abnormal(), 0);
});

Deno.test("DriverMetrics.scrape() counts Lustre mounts per file system and keeps seen ones at 0", async () => {
  const mounts = [shared("fs1-0123456789abcdef", "fs1"), shared("fs2-0123456789abcdef", "fs2")];
  const metrics = metricsWith(mounts);
  let text = await metrics.scrape();
  assert.equal(valueOf(text, 'klustre_csi_lustre_mounts{fs="fs1"}'), 1);
  assert.equal(valueOf(text, 'klustre_csi_lustre_mounts{fs="fs2"}'), 1);
  mounts.pop();
  text = await metrics.scrape();
  assert.equal(valueOf(text, 'klustre_csi_lustre_mounts{fs="fs2"}'), 0);
});

Deno.test("DriverMetrics.scrape() shows the build version and never a volume ID", async () => {
  const metrics = metricsWith([]);
  metrics.volumeChecked("pv-secret-name", true);
  metrics.rpcDone("NodeGetVolumeStats", "OK", 1);
  const text = await metrics.scrape();
  assert.equal(valueOf(text, 'klustre_csi_build_info{version="9.9.9"}'), 1);
  assert.equal(valueOf(text, "klustre_csi_volumes_abnormal"), 1);
  assert.ok(!text.includes("pv-secret-name"));
});

Deno.test("DriverMetrics.scrape() shows whether the Lustre client is ready, checked at each scrape", async () => {
  let ready = false;
  const metrics = new DriverMetrics({
    mountInfo: () => Promise.resolve([]),
    mountsDir: DIR,
    version: "9.9.9",
    lustreClientReady: () => Promise.resolve(ready),
  });
  assert.equal(valueOf(await metrics.scrape(), "klustre_csi_lustre_client_ready"), 0);
  ready = true;
  assert.equal(valueOf(await metrics.scrape(), "klustre_csi_lustre_client_ready"), 1);
});

Deno.test("DriverMetrics.scrape() writes every family with its HELP and TYPE in the text format", async () => {
  const metrics = metricsWith([shared("fs1-0123456789abcdef", "fs1")]);
  metrics.rpcDone("NodeStageVolume", "OK", 5);
  metrics.rpcInFlight("NodeStageVolume", 1);
  const text = await metrics.scrape();
  assert.deepEqual(Object.fromEntries(parseExposition(text).types), {
    klustre_csi_operations_total: "counter",
    klustre_csi_operation_duration_seconds: "histogram",
    klustre_csi_operations_in_flight: "gauge",
    klustre_csi_command_timeouts_total: "counter",
    klustre_csi_lustre_mounts: "gauge",
    klustre_csi_volumes_abnormal: "gauge",
    klustre_csi_lustre_client_ready: "gauge",
    klustre_csi_build_info: "gauge",
  });
  assert.ok(
    text.includes(
      "# HELP klustre_csi_operation_duration_seconds Time to answer a CSI call, by method\n",
    ),
  );
  assert.equal(
    valueOf(
      text,
      'klustre_csi_operation_duration_seconds_bucket{method="NodeStageVolume",le="+Inf"}',
    ),
    1,
  );
});
