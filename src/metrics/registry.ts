/**
 * A minimal Prometheus registry: counters, gauges and histograms with
 * labels, and collectors that refresh gauges at scrape time.
 * metrics/exposition.ts turns it into the text format.
 */
import { formatFamily } from "./exposition.ts";

/** Label names to values of one series. */
export type Labels = Readonly<Record<string, string>>;

/** One exposition line: the full name (with any suffix), labels and value. */
export interface Sample {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
}

/** What every metric family shows to the exposition. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  samples(): Sample[];
}

/** Series of one family, keyed by their label values. */
class SeriesMap<T> {
  readonly #series = new Map<string, { labels: Labels; state: T }>();

  constructor(readonly metric: string, readonly labelNames: readonly string[]) {}

  /**
   * The state of the series with `labels`, created by `init` when new.
   * @throws TypeError when the label names differ from the family's
   */
  get(labels: Labels, init: () => T): T {
    const names = Object.keys(labels);
    if (
      names.length !== this.labelNames.length || !this.labelNames.every((n) => n in labels)
    ) {
      throw new TypeError(
        `Metric "${this.metric}" takes labels [${this.labelNames.join(", ")}], not [${
          names.join(", ")
        }]`,
      );
    }
    const key = this.labelNames.map((n) => labels[n]).join("\u0000");
    let entry = this.#series.get(key);
    if (!entry) {
      entry = { labels: { ...labels }, state: init() };
      this.#series.set(key, entry);
    }
    return entry.state;
  }

  entries(): { labels: Labels; state: T }[] {
    return [...this.#series.values()];
  }

  clear(): void {
    this.#series.clear();
  }
}

/** A value that only goes up. */
export class Counter implements MetricFamily {
  readonly type = "counter";
  readonly #series: SeriesMap<{ value: number }>;

  constructor(readonly name: string, readonly help: string, labelNames: readonly string[] = []) {
    this.#series = new SeriesMap(name, labelNames);
  }

  /**
   * Adds `by` (default 1) to the series with `labels`.
   * @throws RangeError for a negative amount
   */
  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new RangeError(`Counter "${this.name}" cannot go down by ${by}`);
    this.#series.get(labels, () => ({ value: 0 })).value += by;
  }

  /** The current value of one series (0 when never touched). */
  value(labels: Labels = {}): number {
    return this.#series.get(labels, () => ({ value: 0 })).value;
  }

  samples(): Sample[] {
    return this.#series.entries().map((e) => ({
      name: this.name,
      labels: e.labels,
      value: e.state.value,
    }));
  }
}

/** A value that goes up and down. */
export class Gauge implements MetricFamily {
  readonly type = "gauge";
  readonly #series: SeriesMap<{ value: number }>;

  constructor(readonly name: string, readonly help: string, labelNames: readonly string[] = []) {
    this.#series = new SeriesMap(name, labelNames);
  }

  set(labels: Labels, value: number): void {
    this.#series.get(labels, () => ({ value: 0 })).value = value;
  }

  inc(labels: Labels = {}, by = 1): void {
    this.#series.get(labels, () => ({ value: 0 })).value += by;
  }

  /** The current value of one series (0 when never touched). */
  value(labels: Labels = {}): number {
    return this.#series.get(labels, () => ({ value: 0 })).value;
  }

  /** Drops every series. */
  reset(): void {
    this.#series.clear();
  }

  samples(): Sample[] {
    return this.#series.entries().map((e) => ({
      name: this.name,
      labels: e.labels,
      value: e.state.value,
    }));
  }
}

/** Observations counted into cumulative buckets, with their sum and count. */
export class Histogram implements MetricFamily {
  readonly type = "histogram";
  readonly #series: SeriesMap<{ buckets: number[]; sum: number; count: number }>;
  readonly #bounds: readonly number[];

  /** @throws RangeError when the bucket bounds are not increasing */
  constructor(
    readonly name: string,
    readonly help: string,
    options: { labelNames?: readonly string[]; buckets: readonly number[] },
  ) {
    const bounds = options.buckets;
    if (bounds.some((b, i) => i > 0 && b <= bounds[i - 1])) {
      throw new RangeError(`Histogram "${name}" buckets must increase: ${bounds.join(", ")}`);
    }
    this.#bounds = [...bounds];
    this.#series = new SeriesMap(name, options.labelNames ?? []);
  }

  observe(labels: Labels, value: number): void {
    const state = this.#series.get(labels, () => this.#empty());
    const index = this.#bounds.findIndex((b) => value <= b);
    if (index >= 0) state.buckets[index]++;
    state.sum += value;
    state.count++;
  }

  /** Count and sum of one series. */
  totals(labels: Labels): { count: number; sum: number } {
    const { count, sum } = this.#series.get(labels, () => this.#empty());
    return { count, sum };
  }

  samples(): Sample[] {
    return this.#series.entries().flatMap(({ labels, state }) => {
      let cumulative = 0;
      const buckets = this.#bounds.map((bound, i) => {
        cumulative += state.buckets[i];
        return {
          name: `${this.name}_bucket`,
          labels: { ...labels, le: String(bound) },
          value: cumulative,
        };
      });
      return [
        ...buckets,
        { name: `${this.name}_bucket`, labels: { ...labels, le: "+Inf" }, value: state.count },
        { name: `${this.name}_sum`, labels, value: state.sum },
        { name: `${this.name}_count`, labels, value: state.count },
      ];
    });
  }

  #empty() {
    return { buckets: this.#bounds.map(() => 0), sum: 0, count: 0 };
  }
}

/** The families one endpoint exposes, and what refreshes them before a scrape. */
export class Registry {
  readonly #families: MetricFamily[] = [];
  readonly #collectors: (() => Promise<void> | void)[] = [];

  /**
   * Adds a family; names are unique.
   * @throws TypeError for a name already registered
   */
  register<T extends MetricFamily>(family: T): T {
    if (this.#families.some((f) => f.name === family.name)) {
      throw new TypeError(`Metric "${family.name}" is registered twice`);
    }
    this.#families.push(family);
    return family;
  }

  /** Runs `collect` before every scrape (e.g. to count mounts). */
  onCollect(collect: () => Promise<void> | void): void {
    this.#collectors.push(collect);
  }

  /** Runs the collectors, then formats every family in the text format. */
  async expose(): Promise<string> {
    for (const collect of this.#collectors) await collect();
    return this.#families.map(formatFamily).join("");
  }
}
