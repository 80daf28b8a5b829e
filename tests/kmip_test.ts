/** The KMIP client against a real KMIP server (pykmip-server) over mutual TLS. */
import assert from "node:assert/strict";
import { KmipClient, KmipUnavailableError } from "../src/kms/kmip_client.ts";
import { KmipError } from "../src/kms/kmip_messages.ts";
import { KeyMissingError, kmipKeyName, KmipVolumeKeys } from "../src/kms/volume_keys.ts";
import { freePort, type KmipServer, selfSigned, startKmipServer } from "./support/kmip_server.ts";

/** A self-signed EC certificate and key, used as CA and client certificate. */
async function testPems(): Promise<{ ca: string; cert: string; key: string }> {
  const dir = await Deno.makeTempDir({ prefix: "klustre-pem-" });
  try {
    await selfSigned(dir, "k.pem", "c.pem", "t", 1);
    const cert = await Deno.readTextFile(`${dir}/c.pem`);
    return { ca: cert, cert, key: await Deno.readTextFile(`${dir}/k.pem`) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function client(server: KmipServer, timeoutMs = 20_000): KmipClient {
  return new KmipClient(server, { timeoutMs });
}

Deno.test("KmipClient answers KmipUnavailableError for a server that is down or silent", async () => {
  const pems = await testPems();
  const down = new KmipClient({ host: "127.0.0.1", port: freePort(), ...pems }, {
    timeoutMs: 20_000,
  });
  await assert.rejects(down.locate("x"), KmipUnavailableError);

  // Accepts the connection and never answers: bounded by the timeout.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    const silent = new KmipClient(
      {
        host: "127.0.0.1",
        port: (listener.addr as Deno.NetAddr).port,
        ...pems,
      },
      { timeoutMs: 300 },
    );
    await assert.rejects(
      silent.locate("x"),
      (e) =>
        e instanceof KmipUnavailableError &&
        /did not answer Locate within 300 ms/.test(e.message),
    );
  } finally {
    listener.close();
    for (const conn of held) conn.close();
    await accepting.catch(() => undefined);
  }
});

Deno.test("pykmip-server: KmipClient creates, activates, locates, gets, revokes and destroys keys; KmipVolumeKeys keeps one per volume", async (t) => {
  await using server = await startKmipServer();
  await t.step(
    "KmipClient creates, locates, gets, activates, revokes and destroys keys over mutual TLS",
    async () => {
      const kmip = client(server);
      const name = `klustre-csi/test-${crypto.randomUUID()}`;
      assert.deepEqual(await kmip.locate(name), []);
      const id = await kmip.create(name);
      assert.deepEqual(await kmip.locate(name), [id]);
      const key = await kmip.get(id);
      assert.equal(key.length, 32, "an AES-256 key");
      assert.deepEqual(await kmip.get(id), key, "the same key every time");
      const other = await kmip.create(`${name}-2`);
      assert.notDeepEqual(await kmip.get(other), key);
      // The lifecycle the server enforces: an Active key is revoked before it can be destroyed.
      assert.equal(await kmip.state(other), 1, "Pre-Active");
      await kmip.activate(other);
      assert.equal(await kmip.state(other), 2, "Active");
      await assert.rejects(kmip.destroy(other), (e) => e instanceof KmipError);
      assert.notDeepEqual(await kmip.get(other), key, "still there");
      await kmip.revoke(other);
      assert.equal(await kmip.state(other), 3, "Deactivated");
      await kmip.destroy(other);
      assert.deepEqual(await kmip.locate(`${name}-2`), []);

      await kmip.destroy(id);
      assert.deepEqual(await kmip.locate(name), []);
      await assert.rejects(
        kmip.get(id),
        (e) => e instanceof KmipError && e.reason === "Item Not Found",
      );

      // Mutual TLS: a server this client cannot verify, and a client the server cannot verify.
      const wrongCa = new KmipClient({ ...server, ca: server.strangerCert }, { timeoutMs: 20_000 });
      await assert.rejects(wrongCa.locate(name), KmipUnavailableError);
      const stranger = new KmipClient(
        { ...server, cert: server.strangerCert, key: server.strangerKey },
        { timeoutMs: 20_000 },
      );
      await assert.rejects(stranger.locate(name), KmipUnavailableError);
      assert.match(await server.log(), /certificate verify failed|unknown ca|alert/i);
    },
  );
  await t.step(
    "KmipVolumeKeys makes one Active key per volume, finds it again on retry, revokes and destroys it",
    async () => {
      const keys = new KmipVolumeKeys(client(server), `${server.host}:${server.port}`);
      const volumeId = `fs1/k8s/pvc-${crypto.randomUUID()}`;
      const created = await keys.create(volumeId);
      assert.equal(created.length, 64);
      const [id] = await client(server).locate(kmipKeyName(volumeId));
      assert.equal(await client(server).state(id), 2, "the volume's key is Active");
      assert.deepEqual(await keys.create(volumeId), created, "a retried create finds the same key");
      assert.deepEqual(await keys.fetch(volumeId), created);
      assert.notDeepEqual(await keys.create(`${volumeId}-2`), created);
      await keys.destroy(volumeId);
      await keys.destroy(volumeId); // gone already: fine
      await assert.rejects(
        keys.fetch(volumeId),
        (e) => e instanceof KeyMissingError && e.message.includes(kmipKeyName(volumeId)),
      );
      // A key left Pre-Active (made by an earlier version, or a create that stopped before
      // Activate): a delete destroys it as it is; a retried create activates it.
      const legacy = `${volumeId}-legacy`;
      const legacyId = await client(server).create(kmipKeyName(legacy));
      assert.equal((await keys.fetch(legacy)).length, 64);
      await keys.destroy(legacy);
      await assert.rejects(keys.fetch(legacy), KeyMissingError);
      const again = await client(server).create(kmipKeyName(legacy));
      assert.notEqual(again, legacyId);
      await keys.create(legacy);
      assert.equal(await client(server).state(again), 2, "activated by the retried create");
      await keys.destroy(legacy);
    },
  );
});
