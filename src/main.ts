/**
 * Composition root: reads argv and env, builds the real dependencies,
 * serves, handles signals and chooses the exit code.
 */
import { type Config, ConfigError, type Mode, parseConfig } from "./config.ts";
import { setupLogging } from "./log.ts";
import { SystemRunner } from "./exec/command_runner.ts";
import { checkLustreClient } from "./lustre/client_check.ts";
import { LustreClient } from "./lustre/client_state.ts";
import { identityHandlers, type Readiness } from "./identity_server.ts";
import { controllerRoutes, identityRoutes, nodeRoutes, type Route } from "./driver.ts";
import { startServer } from "./grpc/server.ts";
import { LockTable } from "./locks.ts";
import { DriverMetrics } from "./metrics/driver_metrics.ts";
import { startHttpServer } from "./http/http_server.ts";
import { runDoctorCommand } from "./doctor/doctor_command.ts";
import { runPvCommand } from "./pv/pv_command.ts";
import { CsiClient } from "./grpc/client.ts";
import { Identity } from "./csi/gen/csi_pb.ts";
import { mainUsage, serveUsage } from "./usage.ts";
import { CSI_SPEC_VERSION, DRIVER_NAME, DRIVER_VERSION } from "./version.ts";
import { controllerHandlers } from "./controller_server.ts";
import { nodeHandlers } from "./node_server.ts";
import { SystemMounter } from "./mount/system_mounter.ts";
import { hostPathEnv, KEEPER_FOLDER, KeeperNamespace } from "./mount/mount_namespace.ts";
import { WorkerFsGate } from "./mount/fs_gate.ts";
import { CONTROLLER_MOUNTS_FOLDER, NODE_MOUNTS_FOLDER } from "./node/shared_mounts.ts";

/** Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration. */
const EXIT_USAGE = 2;

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case "node":
    case "controller":
      if (rest.includes("--help") || rest.includes("-h")) {
        console.log(serveUsage(command));
        return 0;
      }
      return await serve(command, rest);
    case "version":
      if (rest.includes("--help")) {
        console.log("Usage: klustre-csi version\n\nPrints name, version and CSI version as JSON.");
        return 0;
      }
      console.log(
        JSON.stringify({ name: DRIVER_NAME, version: DRIVER_VERSION, csi: CSI_SPEC_VERSION }),
      );
      return 0;
    case "doctor":
      return await doctor(rest);
    case "pv":
      return await runPvCommand(rest, {
        readTextFile: (path) => Deno.readTextFile(path),
        writeTextFile: (path, text) => Deno.writeTextFile(path, text),
        stdout: printer(Deno.stdout),
        stderr: printer(Deno.stderr),
      });
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(mainUsage());
      return 0;
    default:
      console.error(`Unknown command "${command}"\n\n${mainUsage()}`);
      return EXIT_USAGE;
  }
}

async function serve(mode: Mode, args: string[]): Promise<number> {
  let config: Config;
  try {
    config = parseConfig(mode, args, {
      env: Deno.env.toObject(),
      readTextFile: (path) => Deno.readTextFileSync(path),
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`klustre-csi ${mode}: ${error.message}`);
    return EXIT_USAGE;
  }
  const logger = setupLogging(config.logLevel);
  const keeper = mode === "node" ? keeperNamespace(config) : undefined;
  // Scrapes read the mount table through the mounter built below (or the
  // keeper's, where the node's Lustre mounts are).
  const metrics = new DriverMetrics({
    lustreClientReady: async () => (await client.status()).ready,
    mountInfo: () => keeper ? keeper.mountInfo() : mounter.mountInfo(),
    mountsDir: keeper?.mountsDir ??
      `${config.stateDir}/${mode === "controller" ? CONTROLLER_MOUNTS_FOLDER : NODE_MOUNTS_FOLDER}`,
    version: DRIVER_VERSION,
  });
  const runner = new SystemRunner({
    pathEnv: config.pathEnv,
    ldLibraryPath: config.ldLibraryPath,
    hostLoader: config.hostLoader,
    onRun: (event) => {
      logger.debug("Ran {command}", { ...event, args: event.args.join(" ") });
      if (event.code === "timeout") metrics.commandTimedOut(event.command);
    },
  });
  const client = new LustreClient({
    check: () => checkLustreClient(runner, { timeoutMs: config.probeTimeoutMs }),
    cacheMs: config.probeCacheMs,
    onChange: (status) => {
      if (status.ready) {
        logger.info("Lustre client ready: version {version}", { version: status.version });
      } else {
        logger.warn("Lustre client not ready: {reasons}", { reasons: status.reasons.join("; ") });
      }
    },
  });
  // Liveness is about the driver: ready once it serves. Each Probe also
  // refreshes the Lustre client check in the background (gauge and log).
  let serving = false;
  const readiness = (): Promise<Readiness> => {
    client.status().catch(() => undefined);
    return Promise.resolve(
      serving
        ? { ready: true, reasons: [] }
        : { ready: false, reasons: ["the driver is starting"] },
    );
  };
  const routes: Route[] = identityRoutes(identityHandlers({
    // One capability set for every instance of the deployment (CSI spec).
    controllerServed: mode === "controller" || config.controllerService,
    reportsTopology: true,
    readiness,
    logger,
  }));
  const mounter = new SystemMounter({
    timeoutMs: config.commandTimeoutMs,
    scratchDir: `${config.stateDir}/.scratch`,
  });
  // File system calls inside Lustre mounts run in the gate's own threads.
  const gate = new WorkerFsGate({
    timeoutMs: config.commandTimeoutMs,
    probeIntervalMs: config.hangProbeMs,
    logger,
  });
  if (mode === "node") {
    const node = nodeHandlers({ config, runner, mounter, logger, gate, client, metrics, keeper });
    await node.prepare();
    routes.push(...nodeRoutes(node));
  } else {
    const controller = controllerHandlers({
      config,
      runner,
      mounter,
      logger,
      gate,
      clientVersion: () => client.version(),
    });
    await controller.prepare();
    routes.push(...controllerRoutes(controller));
  }
  let http;
  try {
    http = config.metricsAddress === "" ? undefined : await startHttpServer(
      config.metricsAddress,
      { scrape: () => metrics.scrape(), readiness, logger },
    );
  } catch (error) {
    logger.error("Cannot serve metrics on {address}: {error}", {
      address: config.metricsAddress,
      error: (error as Error).message,
    });
    mounter.close();
    keeper?.close();
    gate.close();
    return 1;
  }
  if (http) {
    logger.info("Serving /metrics and /healthz on {hostname}:{port}", {
      hostname: http.hostname,
      port: http.port,
    });
  }
  const server = await startServer(config.socketPath, routes, {
    logger,
    locks: new LockTable(),
    metrics,
  });
  serving = true;
  client.status().catch(() => undefined);
  logger.info("Serving {mode} on {endpoint}", {
    mode,
    endpoint: config.endpoint,
    version: DRIVER_VERSION,
    nodeId: config.nodeId,
  });
  await waitForSignal();
  logger.info("Shutting down: waiting up to {graceMs} ms for in-flight calls", {
    graceMs: config.shutdownGraceMs,
  });
  await server.shutdown(config.shutdownGraceMs);
  await http?.shutdown();
  mounter.close();
  keeper?.close();
  gate.close();
  logger.info("Stopped");
  return 0;
}

/** The keeper namespace when hostMountNamespace is set (docs/install.md, "What a restart does"). */
function keeperNamespace(config: Config): KeeperNamespace | undefined {
  if (config.hostMountNamespace === "") return undefined;
  return new KeeperNamespace({
    hostNamespace: config.hostMountNamespace,
    keeperDir: `${config.stateDir}/${KEEPER_FOLDER}`,
    kubeletDir: config.kubeletDir,
    pathEnv: hostPathEnv(config.pathEnv),
    timeoutMs: config.commandTimeoutMs,
  });
}

/** `klustre-csi doctor` with the real runner, file system and CSI client. */
function doctor(args: string[]): Promise<number> {
  if (args.includes("-h")) args = ["--help"];
  const stat = (path: string) => Deno.stat(path).catch(() => undefined);
  return runDoctorCommand(args, {
    env: Deno.env.toObject(),
    readTextFile: (path) => Deno.readTextFileSync(path),
    newRunner: ({ pathEnv, ldLibraryPath, hostLoader }) =>
      new SystemRunner({ pathEnv, ldLibraryPath, hostLoader }),
    isDirectory: async (path) => (await stat(path))?.isDirectory === true,
    exists: async (path) => (await stat(path)) !== undefined,
    probe: async (endpoint, timeoutMs) => {
      using client = new CsiClient(endpoint);
      return (await client.call(Identity.method.probe, {}, { timeoutMs })).ready ?? true;
    },
    stdout: printer(Deno.stdout),
    stderr: printer(Deno.stderr),
  });
}

/** Writes all of a text to stdout or stderr, however a pipe splits it. */
function printer(stream: { writeSync(bytes: Uint8Array): number }) {
  return (text: string) => {
    let bytes = new TextEncoder().encode(text);
    while (bytes.length > 0) bytes = bytes.subarray(stream.writeSync(bytes));
  };
}

function waitForSignal(): Promise<Deno.Signal> {
  return new Promise((resolve) => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      Deno.addSignalListener(signal, () => resolve(signal));
    }
  });
}

if (import.meta.main) {
  const code = await main(Deno.args).catch((error: unknown) => {
    console.error(`klustre-csi: ${(error as Error)?.stack ?? error}`);
    return 1;
  });
  Deno.exit(code);
}
