/**
 * What may happen next on the node: kubelet's calls over the campaign's
 * volumes and pods (stage → publish → unpublish → unstage, re-calling what
 * failed, never re-staging a volume it saw staged) and the simulator's
 * faults. Operations are short strings ("publish 2 1", "evict fs1") so a
 * run prints and replays as a list.
 */
import type { Prng } from "./prng.ts";
import { FILE_SYSTEMS, PODS, VOLUMES } from "./cluster.ts";

/** One step: a kubelet call or a fault. */
export type Op = string;

/**
 * Each outage ends after at most this many further steps (a frozen file
 * system is thawed, the MGS comes back, ...), so runs spend their steps on
 * recoveries rather than on kubelet retrying into one long outage.
 */
export const MAX_OUTAGE_STEPS = { freeze: 4, mgsDown: 8, modulesMissing: 6, slow: 12 };

const SLOW_DELAYS_MS = [200, 500, 1000];
const MGS_DELAYS_MS = [0, 0, 300];
/** Probability of re-calling a failed kubelet call, when there is one. */
const RETRY_CHANCE = 0.5;
/** Probability of a volume's pods leaving (an unpublish or unstage) when it has some. */
const LEAVE_CHANCE = 0.3;
/** Probability of a fault instead of a kubelet call. */
const FAULT_CHANCE = 0.22;

/** Relative weights of the fault kinds. */
const FAULT_WEIGHTS: Record<string, number> = {
  evict: 5,
  freeze: 3,
  mgs: 6,
  slow: 4,
  modules: 3,
  restart: 3,
};

/** Kubelet's view of a volume on the node. */
type StageState = "staged" | "uncertain";
/** Kubelet's view of a pod's volume. */
type PublishState = "published" | "uncertain";

/** Where a published target stands, for the file checks. */
export interface Target {
  readonly volume: number;
  readonly pod: number;
  readonly state: PublishState;
  /** Evictions of the volume's file system before its publish succeeded. */
  readonly epoch: number;
}

/** The node as kubelet and the campaign know it. */
export class NodeModel {
  readonly stages = new Map<number, StageState>();
  readonly targets = new Map<string, Target>();
  /** Kubelet calls whose last attempt failed: kubelet calls them again. */
  readonly failed = new Set<Op>();
  readonly evictions: Record<string, number> = { fs1: 0, fs2: 0 };
  /** Frozen file systems and the step at which they froze. */
  readonly frozen = new Map<string, number>();
  /** Step at which each outage began, while it lasts. */
  readonly since: { mgsDown?: number; slow?: number; modulesMissing?: number } = {};
  step = 0;

  get mgsDown(): boolean {
    return this.since.mgsDown !== undefined;
  }

  get slow(): boolean {
    return this.since.slow !== undefined;
  }

  get modulesMissing(): boolean {
    return this.since.modulesMissing !== undefined;
  }

  /** Whether kubelet (or the fault injector) may do `op` now. */
  enabled(op: Op): boolean {
    const [kind, a, b] = op.split(" ");
    const v = Number(a), p = Number(b);
    switch (kind) {
      case "stage":
        return validVolume(v) && this.stages.get(v) !== "staged";
      case "publish":
        return validVolume(v) && validPod(p) && this.stages.get(v) === "staged" &&
          this.targets.get(key(v, p))?.state !== "published";
      case "unpublish":
        return this.targets.has(key(v, p));
      case "unstage":
        return this.stages.has(v) && !this.#hasTargets(v);
      case "evict":
        return isFs(a);
      case "freeze":
        return isFs(a) && !this.frozen.has(a);
      case "thaw":
        return this.frozen.has(a);
      case "mgs-down":
        return !this.mgsDown && /^\d+$/.test(a ?? "");
      case "mgs-up":
        return this.mgsDown;
      case "slow":
      case "slow-all":
        return a === "off" ? this.slow : !this.slow && /^\d+$/.test(a ?? "");
      case "modules-missing":
        return a === "on" ? !this.modulesMissing : a === "off" && this.modulesMissing;
      case "restart":
        return true;
      default:
        return false;
    }
  }

  /** Steps that must come before any other: ending outages that lasted long enough. */
  forced(): Op[] {
    const over = (at: number | undefined, max: number) => at !== undefined && this.step - at >= max;
    return [
      ...[...this.frozen].filter(([, at]) => over(at, MAX_OUTAGE_STEPS.freeze))
        .map(([fs]) => `thaw ${fs}`),
      ...(over(this.since.mgsDown, MAX_OUTAGE_STEPS.mgsDown) ? ["mgs-up"] : []),
      ...(over(this.since.modulesMissing, MAX_OUTAGE_STEPS.modulesMissing)
        ? ["modules-missing off"]
        : []),
      ...(over(this.since.slow, MAX_OUTAGE_STEPS.slow) ? ["slow off"] : []),
    ];
  }

  /** Records that `op` ran and whether it succeeded (faults always do). */
  apply(op: Op, ok: boolean): void {
    this.step++;
    const [kind, a, b] = op.split(" ");
    const v = Number(a), p = Number(b);
    if (isKubeletCall(op)) {
      if (ok) this.failed.delete(op);
      else this.failed.add(op);
    }
    switch (kind) {
      case "stage":
        this.stages.set(v, ok ? "staged" : "uncertain");
        break;
      case "publish": {
        const epoch = this.evictions[VOLUMES[v].fs];
        this.targets.set(key(v, p), {
          volume: v,
          pod: p,
          state: ok ? "published" : "uncertain",
          epoch,
        });
        break;
      }
      case "unpublish":
        if (ok) this.targets.delete(key(v, p));
        break;
      case "unstage":
        if (ok) this.stages.delete(v);
        break;
      case "evict":
        this.evictions[a]++;
        break;
      case "freeze":
        this.frozen.set(a, this.step);
        break;
      case "thaw":
        this.frozen.delete(a);
        break;
      case "mgs-down":
        this.since.mgsDown = this.step;
        break;
      case "mgs-up":
        delete this.since.mgsDown;
        break;
      case "slow":
      case "slow-all":
        if (a === "off") delete this.since.slow;
        else this.since.slow = this.step;
        break;
      case "modules-missing":
        if (a === "on") this.since.modulesMissing = this.step;
        else delete this.since.modulesMissing;
        break;
    }
    // Calls that kubelet no longer wants (their state moved on) are not retried.
    for (const pending of this.failed) if (!this.enabled(pending)) this.failed.delete(pending);
  }

  /** Picks the next step of a random run. */
  next(prng: Prng): Op {
    const forced = this.forced();
    if (forced.length > 0) return forced[0];
    const retries = [...this.failed].filter((op) => this.enabled(op));
    if (retries.length > 0 && prng.chance(RETRY_CHANCE)) return prng.pick(retries);
    if (prng.chance(FAULT_CHANCE)) {
      const fault = this.#fault(prng);
      if (fault) return fault;
    }
    // A volume first, then one of its calls; sometimes its pods go away (unpublish, then
    // unstage once none is left), so stage/unstage cycles stay frequent.
    const byVolume = VOLUMES.map((_, v) => this.#kubeletCalls(v)).filter((c) => c.length > 0);
    const calls = prng.pick(byVolume);
    const leaving = calls.filter((op) => /^un/.test(op));
    if (leaving.length > 0 && prng.chance(LEAVE_CHANCE)) return prng.pick(leaving);
    return prng.pick(calls);
  }

  /** Published targets whose files must be visible now (file system answering). */
  healthyTargets(): Target[] {
    return [...this.targets.values()].filter((t) => {
      const fs = VOLUMES[t.volume].fs;
      return t.state === "published" && !this.frozen.has(fs) && t.epoch === this.evictions[fs];
    });
  }

  #hasTargets(v: number): boolean {
    return [...this.targets.values()].some((t) => t.volume === v);
  }

  #kubeletCalls(v: number): Op[] {
    const calls: Op[] = [`stage ${v}`, `unstage ${v}`];
    for (const [p] of PODS.entries()) calls.push(`publish ${v} ${p}`, `unpublish ${v} ${p}`);
    return calls.filter((op) => this.enabled(op));
  }

  #fault(prng: Prng): Op | undefined {
    const total = Object.values(FAULT_WEIGHTS).reduce((a, b) => a + b, 0);
    let roll = prng.int(total);
    const kind = Object.keys(FAULT_WEIGHTS).find((k) => (roll -= FAULT_WEIGHTS[k]) < 0)!;
    const fs = prng.pick(FILE_SYSTEMS);
    const candidates: Record<string, Op> = {
      evict: `evict ${fs}`,
      freeze: this.frozen.has(fs) ? `thaw ${fs}` : `freeze ${fs}`,
      mgs: this.mgsDown ? "mgs-up" : `mgs-down ${prng.pick(MGS_DELAYS_MS)}`,
      slow: this.slow
        ? "slow off"
        : `${prng.chance(0.7) ? "slow" : "slow-all"} ${prng.pick(SLOW_DELAYS_MS)}`,
      modules: `modules-missing ${this.modulesMissing ? "off" : "on"}`,
      restart: "restart",
    };
    const op = candidates[kind];
    return this.enabled(op) ? op : undefined;
  }
}

/** Whether `op` is a CSI call kubelet makes (not a fault). */
export function isKubeletCall(op: Op): boolean {
  return /^(stage|publish|unpublish|unstage) /.test(op);
}

function key(v: number, p: number): string {
  return `${v}/${p}`;
}

function validVolume(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v < VOLUMES.length;
}

function validPod(p: number): boolean {
  return Number.isInteger(p) && p >= 0 && p < PODS.length;
}

function isFs(name: string | undefined): name is string {
  return (FILE_SYSTEMS as readonly string[]).includes(name ?? "");
}
