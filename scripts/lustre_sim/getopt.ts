/** A small getopt_long(3): short spec like "p:cs", long names, GNU argument permutation. */

/** Parsed options in order, positionals, or the getopt error message. */
export interface GetoptResult {
  opts: [string, string][];
  positionals: string[];
  error?: string;
}

/**
 * Parses `argv`. `long` maps a long name to its short letter (or its own name) and whether it
 * takes a value. Options are reported by short letter when they have one.
 */
export function getopt(
  argv: string[],
  spec: string,
  long: Record<string, [string, boolean]> = {},
): GetoptResult {
  const takes = new Map<string, boolean>();
  for (let i = 0; i < spec.length; i++) {
    if (spec[i] === ":") continue;
    takes.set(spec[i], spec[i + 1] === ":");
  }
  const opts: [string, string][] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const def = long[name];
      if (!def) return { opts, positionals, error: `unrecognized option '${a}'` };
      const [key, hasValue] = def;
      if (hasValue) {
        const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
        if (value === undefined) {
          return { opts, positionals, error: `option '--${name}' requires an argument` };
        }
        opts.push([key, value]);
      } else opts.push([key, ""]);
      continue;
    }
    if (a.startsWith("-") && a.length > 1 && !/^-\d/.test(a)) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        if (!takes.has(c)) return { opts, positionals, error: `invalid option -- '${c}'` };
        if (takes.get(c)) {
          const value = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
          if (value === undefined) {
            return { opts, positionals, error: `option requires an argument -- '${c}'` };
          }
          opts.push([c, value]);
          break;
        }
        opts.push([c, ""]);
      }
      continue;
    }
    positionals.push(a);
  }
  return { opts, positionals };
}
