/**
 * A lock that holds across processes and hosts: a lock file on the file
 * system itself, made with O_CREAT|O_EXCL (which Lustre, NFS v3+ and FUSE
 * all honour, with or without the `flock` mount option). The file holds the
 * holder's token and lease expiry; a holder that crashed is taken over once
 * its lease has passed. A lock never outlives the call that took it.
 */
import { Code, CsiError } from "../csi/csi_error.ts";
import { withTimeout } from "../mount/path_health.ts";

/** What a lock file holds. */
interface LockContent {
  readonly token: string;
  readonly owner: string;
  /** Wall clock (ms since the epoch) after which the lock may be taken over. */
  readonly expiresAt: number;
}

/** How a lock waits and how long it holds. */
export interface FsLockOptions {
  /** How long a holder may keep the lock before another may take it over. */
  readonly leaseMs: number;
  /** How long to wait for the lock before answering ABORTED. */
  readonly waitMs: number;
  /** Bounds each file operation (a hung file system). */
  readonly timeoutMs: number;
  /** Who holds it, for the log and for admins reading the file. */
  readonly owner: string;
  /** Wall clock (default Date.now). */
  readonly now?: () => number;
}

/** One lock file; `run` takes it, runs the work, and releases it. */
export class FsLock {
  readonly #path: string;
  readonly #options: FsLockOptions;

  constructor(path: string, options: FsLockOptions) {
    this.#path = path;
    this.#options = options;
  }

  /**
   * Runs `work` while holding the lock.
   * @throws CsiError ABORTED when another holder keeps it past the wait
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    const token = await this.#acquire();
    // A holder that works longer than a third of the lease extends it; a crashed one cannot.
    let renewing = Promise.resolve();
    const timer = setInterval(() => {
      renewing = renewing.then(() => this.#renew(token)).catch(() => undefined);
    }, Math.max(10, Math.floor(this.#options.leaseMs / 3)));
    try {
      return await work();
    } finally {
      clearInterval(timer);
      await renewing;
      await this.#release(token);
    }
  }

  /** Pushes the lease of this holder's lock file on (temp file, then rename). */
  async #renew(token: string): Promise<void> {
    const held = await this.#read();
    if (held?.token !== token) return;
    const content: LockContent = {
      ...held,
      expiresAt: (this.#options.now ?? Date.now)() + this.#options.leaseMs,
    };
    const temp = `${this.#path}.${crypto.randomUUID().slice(0, 8)}.renew`;
    await this.#bounded(() => Deno.writeTextFile(temp, JSON.stringify(content), { mode: 0o600 }));
    await this.#bounded(() => Deno.rename(temp, this.#path)).catch(async (error) => {
      await this.#bounded(() => Deno.remove(temp)).catch(() => undefined);
      throw error;
    });
  }

  async #acquire(): Promise<string> {
    const now = this.#options.now ?? Date.now;
    const deadline = performance.now() + this.#options.waitMs;
    let pause = 2;
    const dir = this.#path.slice(0, this.#path.lastIndexOf("/"));
    await this.#bounded(() => Deno.mkdir(dir, { recursive: true, mode: 0o700 }));
    for (;;) {
      const content: LockContent = {
        token: crypto.randomUUID(),
        owner: this.#options.owner,
        expiresAt: now() + this.#options.leaseMs,
      };
      if (await this.#create(content)) return content.token;
      const held = await this.#read();
      if (held && held.expiresAt < now()) {
        await this.#takeOver(held);
        continue;
      }
      if (performance.now() > deadline) {
        throw new CsiError(
          Code.ABORTED,
          `Cannot take the lock ${this.#path}: held by ${held?.owner ?? "another controller"} ` +
            `until ${
              held ? new Date(held.expiresAt).toISOString() : "its lease ends"
            }; retry later`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pause + Math.random() * pause));
      pause = Math.min(pause * 2, 100);
    }
  }

  /**
   * Creates the lock file if there is none; false when it exists. The content is written to a
   * file of its own first and linked into place (link never overwrites, and is atomic), so no
   * other process ever reads a lock file that exists but is still empty.
   */
  async #create(content: LockContent): Promise<boolean> {
    const temp = `${this.#path}.${crypto.randomUUID().slice(0, 8)}.new`;
    await this.#bounded(() =>
      Deno.writeTextFile(temp, JSON.stringify(content), { createNew: true, mode: 0o600 })
    );
    try {
      await this.#bounded(() => Deno.link(temp, this.#path));
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) return false;
      throw error;
    } finally {
      await this.#bounded(() => Deno.remove(temp)).catch(() => undefined);
    }
  }

  async #read(): Promise<LockContent | undefined> {
    try {
      const text = await this.#bounded(() => Deno.readTextFile(this.#path));
      const parsed = JSON.parse(text) as LockContent;
      return typeof parsed.expiresAt === "number" ? parsed : { ...parsed, expiresAt: 0 };
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      // A lock file that does not parse (written by hand, or by an older version that wrote it in
      // place) is held for a lease from its last change, never taken over at once.
      if (error instanceof SyntaxError) {
        const changed = await this.#bounded(() => Deno.stat(this.#path))
          .then((info) => info.mtime?.getTime() ?? 0, () => 0);
        return { token: "", owner: "unknown", expiresAt: changed + this.#options.leaseMs };
      }
      throw error;
    }
  }

  /**
   * Moves an expired lock file aside (rename is atomic), then checks that
   * the file moved is the expired one: when another process took it over
   * first, the live lock is put back with link(), which never overwrites.
   */
  async #takeOver(expired: LockContent): Promise<void> {
    const aside = `${this.#path}.${crypto.randomUUID().slice(0, 8)}.expired`;
    try {
      await this.#bounded(() => Deno.rename(this.#path, aside));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    let moved: LockContent | undefined;
    try {
      moved = JSON.parse(await this.#bounded(() => Deno.readTextFile(aside)));
    } catch {
      moved = undefined;
    }
    if (
      moved && moved.token !== expired.token && moved.expiresAt >= (this.#options.now ?? Date.now)()
    ) {
      await this.#bounded(() => Deno.link(aside, this.#path)).catch(() => undefined);
    }
    await this.#bounded(() => Deno.remove(aside)).catch(() => undefined);
  }

  /** Removes the lock file if it is still this holder's. */
  async #release(token: string): Promise<void> {
    const held = await this.#read().catch(() => undefined);
    if (held?.token !== token) return;
    await this.#bounded(() => Deno.remove(this.#path)).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }

  #bounded<T>(work: () => Promise<T>): Promise<T> {
    return withTimeout(this.#path, this.#options.timeoutMs, work);
  }
}
