/**
 * The route table: each RPC, its handler, its lock keys and its log level.
 * grpc/server.ts serves whatever this table lists; RPCs of a served service
 * that are not listed answer UNIMPLEMENTED.
 */
import type {
  DescMessage,
  DescMethod,
  DescMethodUnary,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { Controller, Identity, Node } from "./csi/gen/csi_pb.ts";
import type { IdentityHandlers } from "./identity_server.ts";
import type { NodeHandlers } from "./node_server.ts";
import type { ControllerHandlers } from "./controller_server.ts";

/** How loudly a call is logged: info for mutating RPCs, trace for probes. */
export type RouteLogLevel = "info" | "debug" | "trace";

/** One served RPC. */
export interface Route {
  readonly service: DescService;
  readonly method: DescMethod;
  // deno-lint-ignore no-explicit-any -- each route is typed where it is built by route()
  readonly handler: (request: any) => Promise<any>;
  // deno-lint-ignore no-explicit-any -- as above
  readonly lockKeys?: (request: any) => string[];
  readonly logLevel: RouteLogLevel;
}

function route<I extends DescMessage, O extends DescMessage>(
  service: DescService,
  method: DescMethodUnary<I, O>,
  handler: (request: MessageShape<I>) => Promise<MessageInitShape<O>>,
  options: { logLevel: RouteLogLevel; lockKeys?: (request: MessageShape<I>) => string[] },
): Route {
  return { service, method, handler, ...options };
}

/** Identity RPCs: served by every process. */
export function identityRoutes(h: IdentityHandlers): Route[] {
  const m = Identity.method;
  return [
    route(Identity, m.getPluginInfo, h.getPluginInfo, { logLevel: "trace" }),
    route(Identity, m.getPluginCapabilities, h.getPluginCapabilities, { logLevel: "trace" }),
    route(Identity, m.probe, h.probe, { logLevel: "trace" }),
  ];
}

/** Node RPCs; the lock key is the staging or target path of the call. */
export function nodeRoutes(h: NodeHandlers): Route[] {
  const m = Node.method;
  return [
    route(Node, m.nodeStageVolume, h.nodeStageVolume, {
      logLevel: "info",
      lockKeys: (r) => [pathKey(r.stagingTargetPath)],
    }),
    route(Node, m.nodeUnstageVolume, h.nodeUnstageVolume, {
      logLevel: "info",
      lockKeys: (r) => [pathKey(r.stagingTargetPath)],
    }),
    route(Node, m.nodePublishVolume, h.nodePublishVolume, {
      logLevel: "info",
      lockKeys: (r) => [pathKey(r.targetPath)],
    }),
    route(Node, m.nodeUnpublishVolume, h.nodeUnpublishVolume, {
      logLevel: "info",
      lockKeys: (r) => [pathKey(r.targetPath)],
    }),
    route(Node, m.nodeGetVolumeStats, h.nodeGetVolumeStats, { logLevel: "debug" }),
    route(Node, m.nodeGetCapabilities, h.nodeGetCapabilities, { logLevel: "trace" }),
    route(Node, m.nodeGetInfo, h.nodeGetInfo, { logLevel: "debug" }),
  ];
}

/** Controller RPCs; CreateVolume locks its name, the others the volume ID. */
export function controllerRoutes(h: Partial<ControllerHandlers>): Route[] {
  const m = Controller.method;
  const routes: (Route | false)[] = [
    !!h.createVolume && route(Controller, m.createVolume, h.createVolume, {
      logLevel: "info",
      lockKeys: (r) => [`name:${r.name}`],
    }),
    !!h.deleteVolume && route(Controller, m.deleteVolume, h.deleteVolume, {
      logLevel: "info",
      lockKeys: (r) => [`volume:${r.volumeId}`],
    }),
    !!h.controllerExpandVolume &&
    route(Controller, m.controllerExpandVolume, h.controllerExpandVolume, {
      logLevel: "info",
      lockKeys: (r) => [`volume:${r.volumeId}`],
    }),
    !!h.controllerModifyVolume &&
    route(Controller, m.controllerModifyVolume, h.controllerModifyVolume, {
      logLevel: "info",
      lockKeys: (r) => [`volume:${r.volumeId}`],
    }),
    !!h.validateVolumeCapabilities &&
    route(Controller, m.validateVolumeCapabilities, h.validateVolumeCapabilities, {
      logLevel: "debug",
    }),
    !!h.controllerGetCapabilities &&
    route(Controller, m.controllerGetCapabilities, h.controllerGetCapabilities, {
      logLevel: "trace",
    }),
    !!h.getCapacity && route(Controller, m.getCapacity, h.getCapacity, { logLevel: "debug" }),
  ];
  return routes.filter((r): r is Route => r !== false);
}

/** Lock key of a node path: the path without trailing slashes. */
function pathKey(path: string): string {
  return `path:${path.replace(/\/+$/, "") || "/"}`;
}
