/**
 * A real KMIP server for the tests: Debian's pykmip-server (python3-pykmip),
 * started with a CA and EC certificates made here with openssl, in a temp
 * directory; dispose stops it (by its own process id) and removes the dir.
 */
import { tempDir } from "./driver.ts";
import { freePort } from "./free_port.ts";
export { freePort };

const EXTENSIONS = `
[server]
basicConstraints=CA:FALSE
keyUsage=digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
[client]
basicConstraints=CA:FALSE
keyUsage=digitalSignature
extendedKeyUsage=clientAuth
`;

async function openssl(cwd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd,
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  if (!out.success) throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
}

/** openssl req arguments for a new EC P-256 key, not encrypted. */
const NEW_EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** A self-signed EC P-256 certificate `pem` with its key `key` in `dir`, subject CN=`cn`. */
export async function selfSigned(
  dir: string,
  key: string,
  pem: string,
  cn: string,
  days = 2,
): Promise<void> {
  await openssl(dir, [
    "req",
    "-x509",
    ...NEW_EC_KEY,
    "-keyout",
    key,
    "-out",
    pem,
    "-days",
    String(days),
    "-subj",
    `/CN=${cn}`,
  ]);
}

/** A CA-signed EC P-256 certificate `name`.pem with key `name`.key in `dir`. */
async function issue(dir: string, name: string, section: "server" | "client"): Promise<void> {
  await openssl(dir, [
    "req",
    ...NEW_EC_KEY,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${name}`,
  ]);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
    "-extensions",
    section,
  ]);
}

/** A running KMIP server and the PEM texts a client needs. */
export interface KmipServer extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** A client certificate from another CA: the server must refuse it. */
  readonly strangerCert: string;
  readonly strangerKey: string;
  /** The server's log so far. */
  log(): Promise<string>;
}

/** Starts pykmip-server on a free port and waits (30 s at most) until it accepts TLS. */
export async function startKmipServer(): Promise<KmipServer> {
  const dir = await tempDir("klustre-kmip-");
  const d = dir.path;
  await Deno.writeTextFile(`${d}/ext.cnf`, EXTENSIONS);
  await selfSigned(d, "ca.key", "ca.pem", "klustre-test-ca");
  await issue(d, "server", "server");
  await issue(d, "client", "client");
  // A stranger: its own CA, so the server cannot verify its certificate.
  await Deno.mkdir(`${d}/other`);
  await Deno.writeTextFile(`${d}/other/ext.cnf`, EXTENSIONS);
  await selfSigned(`${d}/other`, "ca.key", "ca.pem", "other-ca");
  await issue(`${d}/other`, "client", "client");
  await Deno.mkdir(`${d}/policies`);
  const port = freePort();
  await Deno.writeTextFile(
    `${d}/server.conf`,
    [
      "[server]",
      "hostname=127.0.0.1",
      `port=${port}`,
      `certificate_path=${d}/server.pem`,
      `key_path=${d}/server.key`,
      `ca_path=${d}/ca.pem`,
      "auth_suite=TLS1.2",
      `policy_path=${d}/policies`,
      "enable_tls_client_auth=True",
      `database_path=${d}/kmip.sqlite`,
      "logging_level=INFO",
      "",
    ].join("\n"),
  );
  // Its own session (setsid execs it, same pid): pykmip starts helper processes (a
  // multiprocessing manager, a policy monitor) that outlive a killed parent, so the whole
  // process group is stopped at the end.
  const child = new Deno.Command("setsid", {
    args: ["pykmip-server", "-f", `${d}/server.conf`, "-l", `${d}/server.log`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const read = (name: string) => Deno.readTextFile(`${d}/${name}`);
  const server: KmipServer = {
    host: "127.0.0.1",
    port,
    ca: await read("ca.pem"),
    cert: await read("client.pem"),
    key: await read("client.key"),
    strangerCert: await read("other/client.pem"),
    strangerKey: await read("other/client.key"),
    log: () => read("server.log").catch(() => ""),
    async [Symbol.asyncDispose]() {
      const group = (signal: Deno.Signal) => {
        try {
          Deno.kill(-child.pid, signal);
        } catch {
          // the group is gone
        }
      };
      group("SIGTERM");
      const killer = setTimeout(() => group("SIGKILL"), 5000);
      await child.status;
      // Helpers that ignore SIGTERM (the manager waits for its parent) end here.
      await new Promise((resolve) => setTimeout(resolve, 200));
      group("SIGKILL");
      clearTimeout(killer);
      await dir[Symbol.asyncDispose]();
    },
  };
  const deadline = Date.now() + 30_000;
  while (true) {
    if ((await server.log()).includes("Starting connection service")) return server;
    if (Date.now() > deadline) {
      const log = await server.log();
      await server[Symbol.asyncDispose]();
      throw new Error(`pykmip-server did not start within 30 s:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
