/** `lfs project` (lfs.c lfs_project + lfs_project.c), over the xattr model of project.ts. */
import type { StandInContext } from "./stand_in.ts";
import { getopt } from "./getopt.ts";
import { usage } from "./lfs_help.ts";
import { describeError, locate } from "./client_mounts.ts";
import { effectiveProject, type Project, projectOf, writeProject } from "./project.ts";
import { simPaths } from "./state.ts";

type Op = "list" | "check" | "clear" | "set";

interface Control {
  op: Op;
  projid: number;
  assignProjid: boolean;
  setInherit: boolean;
  dirOnly: boolean;
  keep: boolean;
  recursive: boolean;
  newline: boolean;
}

/** One entry being walked: user-visible path, data path, effective project. */
interface Item {
  path: string;
  dataPath: string;
  project: Project;
}

/** `lfs project`. */
export function lfsProject(ctx: StandInContext, args: string[]): number {
  const parsed = getopt(args, "p:cCsdkr0", {
    "proj-inherit": ["s", false],
    "projid": ["p", true],
    "recursive": ["r", false],
  });
  if (parsed.error) return usage(ctx, "project", parsed.error);
  const c: Control = {
    op: "list",
    projid: 0,
    assignProjid: false,
    setInherit: false,
    dirOnly: false,
    keep: false,
    recursive: false,
    newline: true,
  };
  const clash = () => {
    ctx.err("lfs: cannot specify '-c' '-C' '-s' together");
    return usage(ctx, "project");
  };
  for (const [opt, value] of parsed.opts) {
    if (opt === "c" || opt === "C" || opt === "s") {
      if (c.op !== "list") return clash();
      c.op = opt === "c" ? "check" : opt === "C" ? "clear" : "set";
      if (opt === "s") c.setInherit = true;
    } else if (opt === "d") c.dirOnly = true;
    else if (opt === "k") c.keep = true;
    else if (opt === "r") c.recursive = true;
    else if (opt === "0") c.newline = false;
    else if (opt === "p") {
      if (!/^\d+$/.test(value) || Number(value) >= 4294967295) {
        ctx.err(`lfs: invalid project ID '${value}'`);
        return usage(ctx, "project");
      }
      c.projid = Number(value);
      c.assignProjid = true;
    }
  }
  if (c.assignProjid && c.op === "list") c.op = "set";
  const useless = (a: string, b: string) => {
    ctx.err(`lfs: '${a}' is useless together with '${b}'`);
    return usage(ctx, "project");
  };
  if (c.op === "check" && c.keep) return useless("-k", "-c");
  if (c.op === "clear" && !c.newline) return useless("-0", "-C");
  if (c.op === "clear" && c.assignProjid) return useless("-p", "-C");
  if (c.op === "set" && !c.newline) return useless("-0", "-s");
  if (c.op === "set" && c.keep) return useless("-k", "-s");
  if (c.op === "list" && !c.newline) {
    ctx.err("lfs: '-0' is useless for list operations");
    return usage(ctx, "project");
  }
  if (parsed.positionals.length === 0) {
    ctx.err("lfs: missing file or directory target(s)");
    return usage(ctx, "project");
  }
  let rc = 0;
  for (const path of parsed.positionals) {
    const err = iterate(ctx, path, c);
    if (err && !rc) rc = err;
  }
  return rc;
}

/** lfs_project_iterate(): the path itself (unless listing a dir), then children. */
function iterate(ctx: StandInContext, path: string, c: Control): number {
  let top: Item;
  let isDir: boolean;
  try {
    isDir = Deno.statSync(path).isDirectory;
  } catch (e) {
    ctx.err(`lfs: failed to stat '${path}': ${describeError(e)[1]}`);
    return 1;
  }
  try {
    const loc = locate(ctx.state, path);
    const backing = simPaths(ctx.root).backing(loc.fs);
    top = { path, dataPath: loc.dataPath, project: projectOf(backing, loc.fsPath) };
  } catch (e) {
    ctx.err(`lfs: failed to get xattr for '${path}': ${describeError(e)[1]}`);
    return describeError(e)[0];
  }
  let rc = 0;
  if (!isDir || c.dirOnly || c.op !== "list") rc = handleOne(ctx, top, c);
  if (!isDir || c.dirOnly || rc) return rc;
  const queue: Item[] = [top];
  while (queue.length > 0) {
    const dir = queue.shift()!;
    let children: Deno.DirEntry[];
    try {
      children = [...Deno.readDirSync(dir.dataPath)];
    } catch (e) {
      ctx.err(`lfs: failed to opendir '${dir.path}': ${describeError(e)[1]}`);
      if (!rc) rc = -describeError(e)[0];
      continue;
    }
    // Re-read the directory's value: handling it may have changed it.
    const parent = effectiveProject(dir.dataPath, dir.project);
    for (const child of children) {
      const dataPath = `${dir.dataPath}/${child.name}`;
      const item = {
        path: `${dir.path}/${child.name}`,
        dataPath,
        project: effectiveProject(dataPath, parent),
      };
      const err = handleOne(ctx, item, c);
      if (err && !rc) rc = err;
      if (c.recursive && child.isDirectory) queue.push(item);
    }
  }
  return Math.abs(rc);
}

/** project_{list,check,set,clear}_one(). */
function handleOne(ctx: StandInContext, item: Item, c: Control): number {
  let st: Deno.FileInfo;
  try {
    st = Deno.lstatSync(item.dataPath);
  } catch (e) {
    ctx.err(`lfs: failed to stat '${item.path}': ${describeError(e)[1]}`);
    return describeError(e)[0];
  }
  if (!st.isFile && !st.isDirectory) {
    const type = st.isSymlink ? "symlink" : "unknown";
    ctx.err(`lfs: unable to get xattr for ${type} '${item.path}': Operation not supported`);
    return 95;
  }
  const p = item.project;
  switch (c.op) {
    case "list":
      ctx.out(`${String(p.id).padStart(5)} ${p.inherit ? "P" : "-"} ${item.path}`);
      return 0;
    case "check": {
      if (!c.assignProjid) {
        c.assignProjid = true;
        c.projid = p.id;
      }
      if (!p.inherit) {
        if (!c.newline) return printNul(item.path);
        ctx.out(`${item.path} - project inheritance flag is not set`);
      }
      if (p.id !== c.projid) {
        if (!c.newline) return printNul(item.path);
        ctx.out(
          `${item.path} - project identifier is not set (inode=${p.id}, tree=${c.projid})`,
        );
      }
      return 0;
    }
    case "set": {
      const value = {
        id: c.assignProjid ? c.projid : p.id,
        inherit: c.setInherit || p.inherit,
      };
      return write(ctx, item, value);
    }
    case "clear":
      return write(ctx, item, { id: c.keep ? p.id : 0, inherit: false });
  }
}

function printNul(path: string): number {
  Deno.stdout.writeSync(new TextEncoder().encode(`${path}\0`));
  return 0;
}

function write(ctx: StandInContext, item: Item, value: Project): number {
  try {
    writeProject(item.dataPath, item.project, value);
    item.project = value;
    return 0;
  } catch (e) {
    ctx.err(`lfs: failed to set xattr for '${item.path}': ${describeError(e)[1]}`);
    return 1;
  }
}
