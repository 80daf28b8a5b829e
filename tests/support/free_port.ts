/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}
