/**
 * A KMIP 1.4 client over mutual TLS: one connection per operation, each
 * bounded by a timeout (connect, handshake, request and answer together).
 */
import { isIP } from "node:net";
import * as tls from "node:tls";
import {
  createRequest,
  decodeResponse,
  identifiers,
  keyMaterial,
  KmipError,
  locateRequest,
  objectRequest,
  revokeRequest,
  stateOf,
  stateRequest,
} from "./kmip_messages.ts";
import { ttlvMessageLength } from "./ttlv.ts";
import type { Ttlv } from "./ttlv.ts";

/** Where the KMIP server is and how to prove who we are (PEM text, never files). */
export interface KmipEndpoint {
  readonly host: string;
  readonly port: number;
  /** The CA that signed the server's certificate. */
  readonly ca: string;
  /** The client's certificate and key. */
  readonly cert: string;
  readonly key: string;
  /** Name checked in the server's certificate; defaults to `host`. */
  readonly serverName?: string;
}

/** The server did not answer in time, or could not be reached. */
export class KmipUnavailableError extends Error {
  override name = "KmipUnavailableError";
}

/** Largest answer accepted (a Get answer is well under 1 KiB). */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** The KMIP operations the driver uses. */
export interface Kmip {
  /** Creates an AES-256 key named `name`; returns its Unique Identifier. */
  create(name: string): Promise<string>;
  /** The identifiers of the symmetric keys named `name`. */
  locate(name: string): Promise<string[]>;
  /** The key bytes of `id`. */
  get(id: string): Promise<Uint8Array>;
  /** The object's State (Enum.statePreActive, Enum.stateActive, ...). */
  state(id: string): Promise<number>;
  /** Pre-Active to Active: usable for encryption (KMIP servers may refuse a Pre-Active key). */
  activate(id: string): Promise<void>;
  /** Active to Deactivated (no longer used, not compromised): a server destroys only that. */
  revoke(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
}

/** Settings of KmipClient. */
export interface KmipClientOptions {
  readonly timeoutMs: number;
}

/** KMIP over TLS to one server. */
export class KmipClient implements Kmip {
  readonly #endpoint: KmipEndpoint;
  readonly #options: KmipClientOptions;

  constructor(endpoint: KmipEndpoint, options: KmipClientOptions) {
    this.#endpoint = endpoint;
    this.#options = options;
  }

  async create(name: string): Promise<string> {
    const [id] = identifiers(await this.#send("Create", createRequest(name)));
    if (!id) throw new KmipError("Create", "Invalid Message", "no Unique Identifier in the answer");
    return id;
  }

  async locate(name: string): Promise<string[]> {
    return identifiers(await this.#send("Locate", locateRequest(name)));
  }

  async get(id: string): Promise<Uint8Array> {
    return keyMaterial(await this.#send("Get", objectRequest("get", id)));
  }

  async state(id: string): Promise<number> {
    return stateOf(await this.#send("Get Attributes", stateRequest(id)));
  }

  async activate(id: string): Promise<void> {
    await this.#send("Activate", objectRequest("activate", id));
  }

  async revoke(id: string): Promise<void> {
    await this.#send("Revoke", revokeRequest(id));
  }

  async destroy(id: string): Promise<void> {
    await this.#send("Destroy", objectRequest("destroy", id));
  }

  /** Sends one request on a new connection and decodes the answer. */
  async #send(operation: string, request: Uint8Array): Promise<Ttlv | undefined> {
    const response = await this.#exchange(operation, request);
    try {
      return decodeResponse(response, operation);
    } finally {
      // A Get answer holds key bytes: the decoded copy is the only one kept.
      response.fill(0);
    }
  }

  #exchange(operation: string, request: Uint8Array): Promise<Uint8Array> {
    const { host, port, ca, cert, key, serverName } = this.#endpoint;
    const { timeoutMs } = this.#options;
    const where = `${host}:${port}`;
    return new Promise<Uint8Array>((resolve, reject) => {
      const chunks: Uint8Array[] = [];
      let received = 0;
      let settled = false;
      let socket: tls.TLSSocket;
      try {
        socket = tls.connect({
          host,
          port,
          ca,
          cert,
          key,
          // SNI takes names only; an IP address is still checked against the certificate.
          ...(serverName ? { servername: serverName } : isIP(host) ? {} : { servername: host }),
          minVersion: "TLSv1.2",
        });
      } catch (error) {
        // Refused before any connection: the certificates or key cannot be used.
        reject(new TypeError(`KMIP client TLS settings refused: ${(error as Error).message}`));
        return;
      }
      const finish = (error: Error | null, bytes?: Uint8Array) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        if (error) reject(error);
        else resolve(bytes!);
      };
      const timer = setTimeout(() => {
        finish(
          new KmipUnavailableError(
            `KMIP server ${where} did not answer ${operation} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      socket.on("secureConnect", () => socket.write(request));
      socket.on("data", (data: Uint8Array) => {
        chunks.push(new Uint8Array(data));
        received += data.length;
        if (received < 8) return;
        const all = joined(chunks, received);
        const length = ttlvMessageLength(all);
        if (length > MAX_MESSAGE_BYTES) {
          finish(new KmipError(operation, "Response Too Large", `${length} bytes`));
        } else if (received >= length) {
          const message = all.slice(0, length);
          for (const chunk of chunks) chunk.fill(0);
          all.fill(0);
          finish(null, message);
        }
      });
      socket.on("error", (error: Error) => {
        finish(new KmipUnavailableError(`KMIP server ${where}: ${error.message}`));
      });
      socket.on("close", () => {
        finish(
          new KmipUnavailableError(
            `KMIP server ${where} closed the connection during ${operation}`,
          ),
        );
      });
    });
  }
}

function joined(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  chunks.splice(0, chunks.length, out);
  return out;
}
