/**
 * prom-client's registry and metric types, loaded file by file: the package
 * index also loads its cluster aggregator, Pushgateway (http/https) and
 * default process metrics, which cost ~2.9 MiB of resident memory under
 * Deno against ~0.3 MiB for these four files (docs/operations.md, "Metrics
 * library and memory"). Types come from the package's own declarations.
 */
import type * as PromClient from "prom-client";
import RegistryImpl from "prom-client/lib/registry.js";
import CounterImpl from "prom-client/lib/counter.js";
import GaugeImpl from "prom-client/lib/gauge.js";
import HistogramImpl from "prom-client/lib/histogram.js";

export const Registry = RegistryImpl as typeof PromClient.Registry;
export const Counter = CounterImpl as typeof PromClient.Counter;
export const Gauge = GaugeImpl as typeof PromClient.Gauge;
export const Histogram = HistogramImpl as typeof PromClient.Histogram;
export type Registry = PromClient.Registry;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
export type Histogram<T extends string = string> = PromClient.Histogram<T>;

/** The Content-Type of a scrape answer (text format 0.0.4). */
export const EXPOSITION_CONTENT_TYPE: string = Registry.PROMETHEUS_CONTENT_TYPE;
