/**
 * One campaign run on a fresh test node: a random run from a seed, or the
 * replay of a list of operations (steps kubelet would not take in the
 * replayed state are skipped), then faults cleared, kubelet's pending calls
 * completed and a working pod on every staged volume, everything
 * unpublished and unstaged, and the final checks.
 */
import { codeName } from "../../../src/csi/csi_error.ts";
import { startNodeEnv } from "../node_env.ts";
import type { NodeEnv } from "../node_env.ts";
import { stagingPath, targetPath } from "../kubelet.ts";
import { pvName } from "../node_env.ts";
import { PODS, VOLUMES } from "./cluster.ts";
import { isKubeletCall, NodeModel, type Op } from "./model.ts";
import { Prng } from "./prng.ts";
import { type Answer, kubeletCall, type KubeletPaths } from "./calls.ts";
import { allowedCodes, allowedMessage } from "./allowed_codes.ts";
import { applyFault, clearingFaults } from "./faults.ts";
import { checkTargets, Written } from "./target_checks.ts";
import { checkNoMounts, checkWrittenData } from "./final_checks.ts";
import { check, InvariantError } from "./invariant.ts";
import { drain, settle } from "./end_phase.ts";

/** What to run. */
export interface ChaosOptions {
  readonly seed: number;
  /** A random run of this many steps from the seed ... */
  readonly ops?: number;
  /** ... or these steps. */
  readonly sequence?: readonly Op[];
  /** A random run stops drawing steps after this long. */
  readonly budgetMs?: number;
  /** Each call's deadline. */
  readonly callTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** A broken invariant and where. */
export interface ChaosFailure {
  /** Index in `executed` of the failing step, or -1 for the final phase. */
  readonly step: number;
  readonly op: Op;
  readonly message: string;
}

/** How a run went. */
export interface ChaosResult {
  /** Steps actually taken, in order (a replayable sequence). */
  readonly executed: Op[];
  readonly failure?: ChaosFailure;
  /** Answers per "call CODE". */
  readonly answers: Record<string, number>;
  readonly ms: number;
}

const DEFAULT_CALL_TIMEOUT_MS = 30_000;
/**
 * Driver flags: a hung file system is declared not answering after 5 s (the
 * first call on it waits that long; default 30 s) and probed every second;
 * a mount.lustre against a hung server is killed after 8 s (default 100 s).
 */
export const CHAOS_DRIVER_ARGS = [
  "--command-timeout-ms",
  "5000",
  "--hang-probe-ms",
  "1000",
  "--mount-timeout-ms",
  "8000",
];

/** Runs one campaign. Never throws for a broken invariant: it is in the result. */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const executed: Op[] = [];
  const answers: Record<string, number> = {};
  await using env = await startNodeEnv({ driverArgs: CHAOS_DRIVER_ARGS });
  const paths = await preparePaths(env);
  const model = new NodeModel();
  const written = new Written();
  const timeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;

  const step = async (op: Op): Promise<Answer | undefined> => {
    executed.push(op);
    let answer: Answer | undefined;
    const allowed = allowedCodes(op, model);
    if (isKubeletCall(op)) {
      answer = await kubeletCall(env, paths, op, timeoutMs);
      const name = codeName(answer.code);
      answers[`${op.split(" ")[0]} ${name}`] = (answers[`${op.split(" ")[0]} ${name}`] ?? 0) + 1;
      log(`${executed.length - 1} ${op}: ${name} ${Math.round(answer.ms)} ms ${answer.message}`);
      check(
        answer.ms < timeoutMs,
        `${op}: no answer within ${timeoutMs} ms (${answer.message})`,
      );
      check(
        allowed.includes(answer.code) && allowedMessage(answer.code, answer.message),
        `${op} answered ${name}, allowed: ${allowed.map(codeName).join(", ")}: ${answer.message}`,
      );
      model.apply(op, answer.code === 0);
    } else {
      log(`${executed.length - 1} ${op}`);
      await applyFault(env, op);
      model.apply(op, true);
    }
    await checkDriverAlive(env);
    await checkTargets(model, paths, written);
    return answer;
  };

  try {
    if (options.sequence) {
      for (const op of options.sequence) {
        for (const forced of model.forced()) await step(forced);
        if (model.enabled(op)) await step(op);
      }
    } else {
      const prng = new Prng(options.seed);
      const deadline = started + (options.budgetMs ?? Infinity);
      for (let i = 0; i < (options.ops ?? 0) && performance.now() < deadline; i++) {
        await step(model.next(prng));
      }
    }
  } catch (error) {
    if (!(error instanceof InvariantError)) throw error;
    return result(executed.length - 1, executed.at(-1) ?? "", error.message);
  }
  try {
    for (const op of clearingFaults(model)) await step(op);
    await settle(model, step);
    await drain(model, step);
    await checkWrittenData(env, written);
    await checkNoMounts(env);
  } catch (error) {
    if (!(error instanceof InvariantError)) throw error;
    return result(-1, "(end)", error.message);
  }
  return result();

  function result(at?: number, op?: Op, message?: string): ChaosResult {
    const failure = message === undefined ? undefined : { step: at!, op: op!, message };
    if (failure) {
      log(`driver log (last lines):\n${env.driver.logs().split("\n").slice(-15).join("\n")}`);
      log(`FAILED at step ${at} (${op}): ${message}`);
    }
    return { executed, failure, answers, ms: performance.now() - started };
  }
}

async function checkDriverAlive(env: NodeEnv) {
  const exited = await Promise.race([
    env.driver.status.then((s) => s),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 0)),
  ]);
  check(
    !exited,
    `The driver exited (${JSON.stringify(exited)}):\n${env.driver.logs().slice(-3000)}`,
  );
}

/** Kubelet's directories, made before any fault. */
async function preparePaths(env: NodeEnv): Promise<KubeletPaths> {
  for (const v of VOLUMES) if (v.subdir) await env.sim.mkdir(v.fs, v.subdir);
  const staging: string[] = [];
  const targets: string[][] = [];
  for (const v of VOLUMES) {
    staging.push(await stagingPath(env.kubeletDir, v.id));
    targets.push(
      await Promise.all(PODS.map((pod) => targetPath(env.kubeletDir, pod, pvName(v.id)))),
    );
  }
  return { staging: (v) => staging[v], target: (v, p) => targets[v][p] };
}
