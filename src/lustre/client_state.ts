/**
 * The Lustre client as the driver knows it: the last check, cached while it
 * says ready and checked again while it does not, and the client version,
 * kept once read so a failed check never changes a mount's identity.
 */
import type { ClientStatus } from "./client_check.ts";

/** The Lustre client cannot be used now; reasons say what is missing. */
export class LustreClientNotReadyError extends Error {
  override name = "LustreClientNotReadyError";
  constructor(readonly reasons: readonly string[]) {
    super(`the Lustre client is not ready: ${reasons.join("; ") || "unknown reason"}`);
  }
}

/** What LustreClient needs. */
export interface LustreClientDeps {
  /** One bounded check of the tools and modules. */
  readonly check: () => Promise<ClientStatus>;
  /** How long a ready answer is trusted. */
  readonly cacheMs: number;
  /** Told every check whose readiness differs from the previous one's, and the first. */
  readonly onChange?: (status: ClientStatus) => void;
  readonly now?: () => number;
}

/** The node's Lustre client: readiness, and its version for the process lifetime. */
export class LustreClient {
  readonly #deps: LustreClientDeps;
  #last: { at: number; status: ClientStatus } | undefined;
  #pending: Promise<ClientStatus> | undefined;
  #version = "";

  constructor(deps: LustreClientDeps) {
    this.#deps = deps;
  }

  /** The last status checked, if any, without checking. */
  get last(): ClientStatus | undefined {
    return this.#last?.status;
  }

  /**
   * A ready answer younger than the cache period, else the result of one
   * fresh check shared by concurrent callers (a "not ready" answer is never
   * reused, so the first call after the modules load sees them: a caller
   * that joined a check already running, begun before it asked, checks once
   * more when that check says not ready).
   */
  status(): Promise<ClientStatus> {
    const now = this.#now();
    if (this.#last?.status.ready && now - this.#last.at < this.#deps.cacheMs) {
      return Promise.resolve(this.#last.status);
    }
    const joined = this.#pending !== undefined;
    const shared = this.#check();
    if (!joined) return shared;
    // The running check's "not ready" may predate this call (modules loaded meanwhile).
    return shared.then((status) => status.ready ? status : this.#check());
  }

  /** One check shared by the callers that ask while it runs. */
  #check(): Promise<ClientStatus> {
    this.#pending ??= this.#deps.check().then((status) => {
      const previous = this.#last?.status;
      this.#last = { at: this.#now(), status };
      // A version read is kept: a later failed read does not forget it.
      if (status.version !== "") this.#version = status.version;
      if (previous?.ready !== status.ready) this.#deps.onChange?.(status);
      return status;
    }).finally(() => this.#pending = undefined);
    return this.#pending;
  }

  /**
   * The client version: the one read before, else one fresh check's.
   * @throws LustreClientNotReadyError when no check has read it yet
   */
  async version(): Promise<string> {
    if (this.#version !== "") return this.#version;
    const status = await this.status();
    if (this.#version !== "") return this.#version;
    throw new LustreClientNotReadyError(
      status.reasons.length > 0 ? status.reasons : ["the client version is not known yet"],
    );
  }

  /**
   * Resolves when the client is usable (cached while ready).
   * @throws LustreClientNotReadyError naming what is missing
   */
  async requireReady(): Promise<void> {
    const status = await this.status();
    if (!status.ready) throw new LustreClientNotReadyError(status.reasons);
  }

  #now(): number {
    return (this.#deps.now ?? Date.now)();
  }
}
