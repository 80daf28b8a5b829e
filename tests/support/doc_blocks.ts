/**
 * The code blocks of the user docs that CI runs. A block is marked by an
 * HTML comment on the line before it (blank lines between are fine):
 *
 *   <!-- ci: run -->         run this shell block as written
 *   <!-- ci: file NAME -->   write this block to NAME first (a values file, an inventory)
 *
 * docScript() turns one document's marked blocks into one bash script, in
 * document order, so a later block sees what an earlier one exported or wrote.
 */

/** One marked block. */
export interface DocBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly action: { kind: "run" } | { kind: "file"; name: string };
  readonly text: string;
}

/** A command a doc gives that is too costly for every CI run, and its cheap variant. */
export interface CheapVariant {
  readonly pattern: RegExp;
  readonly replacement: string;
  readonly why: string;
}

const MARKER = /^\s*<!--\s*ci:\s*(.*?)\s*-->\s*$/;
const FENCE = /^(\s*)(`{3,}|~{3,})/;

/**
 * The marked blocks of a markdown text.
 * @throws SyntaxError for an unknown marker or a marker without a block after it
 */
export function markedBlocks(file: string, markdown: string): DocBlock[] {
  const lines = markdown.split("\n");
  const blocks: DocBlock[] = [];
  let pending: { action: DocBlock["action"]; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const marker = MARKER.exec(lines[i]);
    if (marker) {
      pending = { action: parseAction(file, i + 1, marker[1]), line: i + 1 };
      continue;
    }
    const fence = FENCE.exec(lines[i]);
    if (fence) {
      const end = lines.findIndex((l, j) => j > i && l.trim() === fence[2]);
      if (end < 0) throw new SyntaxError(`${file}:${i + 1}: code block is not closed`);
      if (pending) {
        const body = lines.slice(i + 1, end).map((l) =>
          l.startsWith(fence[1]) ? l.slice(fence[1].length) : l
        );
        blocks.push({ file, line: i + 1, action: pending.action, text: body.join("\n") + "\n" });
        pending = undefined;
      }
      i = end;
      continue;
    }
    if (pending && lines[i].trim() !== "") {
      throw new SyntaxError(
        `${file}:${pending.line}: a ci marker must come right before a code block`,
      );
    }
  }
  if (pending) {
    throw new SyntaxError(
      `${file}:${pending.line}: a ci marker must come right before a code block`,
    );
  }
  return blocks;
}

function parseAction(file: string, line: number, text: string): DocBlock["action"] {
  if (text === "run") return { kind: "run" };
  const name = /^file ([A-Za-z0-9._/-]+)$/.exec(text);
  if (name && !name[1].startsWith("/") && !name[1].split("/").includes("..")) {
    return { kind: "file", name: name[1] };
  }
  throw new SyntaxError(`${file}:${line}: unknown ci marker "${text}" (run, or file NAME)`);
}

/** Applies the cheap variants to each line of a block. */
export function cheapen(text: string, variants: readonly CheapVariant[]): string {
  return text.split("\n").map((line) =>
    variants.reduce((l, v) => l.replace(v.pattern, v.replacement), line)
  ).join("\n");
}

/** One bash script for a document's blocks; each run block says where it starts on stderr. */
export function docScript(blocks: readonly DocBlock[], variants: readonly CheapVariant[]): string {
  return blocks.map((block) => {
    const where = `echo '::: ${block.file}:${block.line}' >&2\n`;
    if (block.action.kind === "file") {
      const eof = "CI_DOC_EOF";
      if (block.text.split("\n").includes(eof)) throw new SyntaxError(`${eof} inside a block`);
      return `${where}cat > '${block.action.name}' <<'${eof}'\n${block.text}${eof}\n`;
    }
    return where + cheapen(block.text, variants);
  }).join("");
}
