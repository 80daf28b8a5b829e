/**
 * Composition root: reads argv and env, builds the real dependencies,
 * serves, handles signals and chooses the exit code.
 */
import { type Config, ConfigError, type Mode, parseConfig } from "./config.ts";
import { setupLogging } from "./log.ts";
import { SystemRunner } from "./exec/command_runner.ts";
import { CachedCheck } from "./single_flight.ts";
import { checkLustreClient, type ClientStatus } from "./lustre/client_check.ts";
import { identityHandlers } from "./identity_server.ts";
import { controllerRoutes, identityRoutes, nodeRoutes, type Route } from "./driver.ts";
import { startServer } from "./grpc/server.ts";
import { LockTable } from "./locks.ts";
import { NOOP_METRICS } from "./metrics.ts";
import { mainUsage, serveUsage } from "./usage.ts";
import { CSI_SPEC_VERSION, DRIVER_NAME, DRIVER_VERSION } from "./version.ts";
import { controllerHandlers } from "./controller_server.ts";
import { nodeHandlers } from "./node_server.ts";
import { SystemMounter } from "./mount/system_mounter.ts";

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
  const metrics = NOOP_METRICS;
  const runner = new SystemRunner({
    pathEnv: config.pathEnv,
    ldLibraryPath: config.ldLibraryPath,
    onRun: (event) => {
      logger.debug("Ran {command}", { ...event, args: event.args.join(" ") });
      if (event.code === "timeout") metrics.commandTimedOut(event.command);
    },
  });
  const client = new CachedCheck<ClientStatus>(
    () => checkLustreClient(runner, { timeoutMs: config.probeTimeoutMs }),
    config.probeCacheMs,
  );
  const routes: Route[] = identityRoutes(identityHandlers({
    controllerServed: mode === "controller",
    reportsTopology: true,
    readiness: () => client.get(),
    logger,
  }));
  const mounter = new SystemMounter({
    timeoutMs: config.commandTimeoutMs,
    scratchDir: `${config.stateDir}/.scratch`,
  });
  if (mode === "node") {
    const node = nodeHandlers({ config, runner, mounter, logger, client });
    await node.prepare();
    routes.push(...nodeRoutes(node));
  } else {
    const controller = controllerHandlers({
      config,
      runner,
      mounter,
      logger,
      clientVersion: async () => (await client.get()).version,
    });
    await controller.prepare();
    routes.push(...controllerRoutes(controller));
  }
  const server = await startServer(config.socketPath, routes, {
    logger,
    locks: new LockTable(),
    metrics,
  });
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
  mounter.close();
  logger.info("Stopped");
  return 0;
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
