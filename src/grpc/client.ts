/**
 * A small promise-based CSI client over a unix socket, used by `doctor`,
 * the demo, the benchmarks and the tests.
 */
import {
  type CallOptions,
  credentials,
  makeGenericClientConstructor,
  Metadata,
  type ServiceError,
} from "@grpc/grpc-js";
import {
  create,
  type DescMessage,
  type DescMethodUnary,
  type DescService,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { Controller, Identity, Node } from "../csi/gen/csi_pb.ts";
import { serviceDefinition } from "./service_definition.ts";

/** A failed call: the gRPC status code and message. */
export class CallError extends Error {
  override name = "CallError";
  constructor(readonly code: number, readonly details: string) {
    super(`${code}: ${details}`);
  }
}

type Raw = {
  // deno-lint-ignore no-explicit-any -- grpc-js generic client methods are untyped
  [method: string]: any;
  close(): void;
};

/** Typed access to Identity, Node and Controller on one socket. */
export class CsiClient implements Disposable {
  readonly #clients: Map<DescService, Raw>;

  constructor(readonly endpoint: string) {
    const address = endpoint.startsWith("unix:") ? endpoint : `unix://${endpoint}`;
    this.#clients = new Map(
      [Identity, Node, Controller].map((service) => {
        const Ctor = makeGenericClientConstructor(serviceDefinition(service), service.name);
        return [service, new Ctor(address, credentials.createInsecure()) as unknown as Raw];
      }),
    );
  }

  /**
   * Calls one RPC; resolves with the response.
   * @throws CallError with the status code
   */
  call<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    options: { timeoutMs?: number } = {},
  ): Promise<MessageShape<O>> {
    const client = this.#clients.get(method.parent)!;
    const callOptions: CallOptions = { deadline: Date.now() + (options.timeoutMs ?? 30_000) };
    return new Promise((resolve, reject) => {
      client[method.name](
        create(method.input, request),
        new Metadata(),
        callOptions,
        (error: ServiceError | null, response: MessageShape<O>) => {
          if (error) reject(new CallError(error.code, error.details));
          else resolve(response);
        },
      );
    });
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
