/**
 * Drops Node's DEP0040 warning ("The `punycode` module is deprecated"), which
 * the kubernetes-models validators trigger through ajv's format plugins
 * (`require("punycode")`) on every test run. Every other warning still prints.
 * Import it before any kubernetes-models module.
 */
import process from "node:process";

const emitWarning = process.emitWarning.bind(process);
process.emitWarning = function (warning: string | Error, ...rest: unknown[]) {
  const code = typeof rest[0] === "object" ? (rest[0] as { code?: string })?.code : rest[1];
  if (code === "DEP0040") return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
} as typeof process.emitWarning;
