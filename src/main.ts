/**
 * Composition root: reads argv and env, builds the real dependencies,
 * serves, handles signals and chooses the exit code.
 */
import { type Config, ConfigError, type Mode, parseConfig } from "./config.ts";
import { type Logger, setupLogging } from "./log.ts";
import { routeGrpcLogs } from "./grpc/grpc_log.ts";
import { StateDirBind } from "./mount/state_dir_bind.ts";
import { SystemRunner } from "./exec/command_runner.ts";
import { checkLustreClient } from "./lustre/client_check.ts";
import { LustreClient } from "./lustre/client_state.ts";
import { identityHandlers, type Readiness } from "./identity_server.ts";
import { controllerRoutes, identityRoutes, nodeRoutes, type Route } from "./driver.ts";
import { startServer } from "./grpc/server.ts";
import { LockTable } from "./locks.ts";
import { DriverMetrics } from "./metrics/driver_metrics.ts";
import { registerSharedMountInfo } from "./metrics/shared_mount_info.ts";
import { registerPccMetrics } from "./metrics/pcc_metrics.ts";
import { readTuningRecords } from "./node/client_tuning.ts";
import { startHttpServer } from "./http/http_server.ts";
import { CsiClient } from "./grpc/client.ts";
import { Identity } from "./csi/gen/csi_pb.ts";
import { mainUsage, serveUsage } from "./usage.ts";
import { CSI_SPEC_VERSION, DRIVER_NAME, DRIVER_VERSION } from "./version.ts";
import { nodeHandlers } from "./node_server.ts";
import { SystemMounter } from "./mount/system_mounter.ts";
import { hostPathEnv, KEEPER_FOLDER, KeeperNamespace } from "./mount/mount_namespace.ts";
import { WorkerFsGate } from "./mount/fs_gate.ts";
import { registerNotAnswering } from "./metrics/not_answering.ts";
import { killRunningGroups } from "./exec/spawn_bounded.ts";
import { CONTROLLER_MOUNTS_FOLDER, NODE_MOUNTS_FOLDER } from "./node/shared_mounts.ts";

/** Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration. */
const EXIT_USAGE = 2;

/** Help of `klustre-csi version`. */
const VERSION_USAGE = `Usage: klustre-csi version

Prints name, version and CSI version as JSON.

  -h, --help   Show this help
`;

/** True when the arguments ask for help. */
function wantsHelp(args: readonly string[]): boolean {
  return args.includes("--help") || args.includes("-h");
}

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case "node":
    case "controller":
      if (wantsHelp(rest)) {
        console.log(serveUsage(command));
        return 0;
      }
      return await serve(command, rest);
    case "version":
      if (wantsHelp(rest)) {
        console.log(VERSION_USAGE);
        return 0;
      }
      if (rest.length > 0) {
        console.error(`klustre-csi version: unexpected argument "${rest[0]}"\n\n${VERSION_USAGE}`);
        return EXIT_USAGE;
      }
      console.log(
        JSON.stringify({ name: DRIVER_NAME, version: DRIVER_VERSION, csi: CSI_SPEC_VERSION }),
      );
      return 0;
    case "doctor":
      return await doctor(rest);
    case "pv": {
      // Commands and the controller load their modules only when run (node memory, start-up).
      const { runPvCommand } = await import("./pv/pv_command.ts");
      return await runPvCommand(rest, {
        readTextFile: (path) => Deno.readTextFile(path),
        writeTextFile: (path, text) => Deno.writeTextFile(path, text),
        stdout: printer(Deno.stdout),
        stderr: printer(Deno.stderr),
      });
    }
    case "help":
      // `help <command>` is `<command> --help`.
      if (rest.length > 0 && rest[0] !== "help") return await main([rest[0], "--help"]);
      console.log(mainUsage());
      return 0;
    case undefined:
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
  routeGrpcLogs(logger);
  // Undone in reverse order however serving ends.
  const atExit: (() => Promise<unknown> | void)[] = [];
  let code: number;
  try {
    code = await serveWith(mode, config, logger, atExit);
  } catch (error) {
    // One JSON line; the stack only for those who asked for debug.
    logger.error("Cannot serve {mode}: {error}", {
      mode,
      error: (error as Error)?.message ?? String(error),
    });
    logger.debug("Stack of that failure", { stack: (error as Error)?.stack ?? "" });
    code = 1;
  }
  for (const step of atExit.reverse()) {
    try {
      await step();
    } catch (error) {
      logger.warn("Cannot clean up at exit: {error}", { error: (error as Error)?.message });
    }
  }
  logger.info("Stopped", { exitCode: code });
  return code;
}

/** Builds the services, serves until SIGTERM or SIGINT, then shuts down; resolves with the exit code. */
async function serveWith(
  mode: Mode,
  config: Config,
  logger: Logger,
  atExit: (() => Promise<unknown> | void)[],
): Promise<number> {
  const keeper = mode === "node" ? keeperNamespace(config) : undefined;
  if (keeper) atExit.push(() => keeper.close());
  // Scrapes read the mount table through the mounter built below (or the
  // keeper's, where the node's Lustre mounts are).
  const metrics = new DriverMetrics({
    lustreClientReady: async () => (await client.status()).ready,
    mountInfo: () => keeper ? keeper.mountInfo() : mounter.mountInfo(),
    mountsDir: keeper?.mountsDir ??
      `${config.stateDir}/${mode === "controller" ? CONTROLLER_MOUNTS_FOLDER : NODE_MOUNTS_FOLDER}`,
    version: DRIVER_VERSION,
  });
  if (mode === "node") {
    registerSharedMountInfo(metrics.registry, {
      mountInfo: () => keeper ? keeper.mountInfo() : mounter.mountInfo(),
      mountsDir: keeper?.mountsDir ?? `${config.stateDir}/${NODE_MOUNTS_FOLDER}`,
      tunings: () => readTuningRecords(config.stateDir),
    });
  }
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
  atExit.push(() => gate.close());
  atExit.push(() => mounter.close());
  registerNotAnswering(metrics.registry, gate);
  // prepare() binds the state dir on itself unless it is a mount already; undone at exit.
  const stateDirBind = await StateDirBind.before({
    mounter,
    logger,
    stateDir: config.stateDir,
    timeoutMs: config.unmountTimeoutMs,
  });
  atExit.push(() => stateDirBind.release());
  if (mode === "node") {
    const pccMetrics = registerPccMetrics(metrics.registry);
    const node = nodeHandlers({
      config,
      runner,
      mounter,
      logger,
      gate,
      client,
      metrics,
      keeper,
      pccMetrics,
    });
    await node.prepare();
    routes.push(...nodeRoutes(node));
  } else {
    const { controllerHandlers } = await import("./controller_server.ts");
    const controller = controllerHandlers({
      config,
      runner,
      mounter,
      logger,
      gate,
      clientVersion: () => client.version(),
      registry: metrics.registry,
    });
    atExit.push(() =>
      controller.release().catch((error: Error) =>
        logger.warn("Cannot release the controller's Lustre mounts: {error}", {
          error: error.message,
        })
      )
    );
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
    return 1;
  }
  if (http) {
    logger.info("Serving /metrics and /healthz on {hostname}:{port}", {
      hostname: http.hostname,
      port: http.port,
    });
    atExit.push(() => http.shutdown());
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
async function doctor(args: string[]): Promise<number> {
  const { runDoctorCommand } = await import("./doctor/doctor_command.ts");
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
    // The stack only when asked for (KLUSTRE_LOG_LEVEL debug or trace).
    const verbose = ["debug", "trace"].includes(Deno.env.get("KLUSTRE_LOG_LEVEL") ?? "");
    console.error(`klustre-csi: ${verbose ? (error as Error)?.stack : (error as Error)?.message}`);
    return 1;
  });
  killRunningGroups();
  Deno.exit(code);
}
