/**
 * Lustre client mount sources: `MGSNODE[:MGSNODE...]:/FSNAME[/SUBDIR]`, where a node is
 * one or more comma-separated NIDs (`ADDR@NET[NUM]`).
 */

/** A parsed client source. */
export interface LustreSource {
  /** MGS nodes in failover order, each a list of canonical NIDs. */
  mgsNodes: string[][];
  fsname: string;
  /** Subdirectory without leading slash; "" for the root. */
  subdir: string;
  /** The source as mount.lustre passes it to the kernel (`10.0.0.1@tcp:/fs1/sub`). */
  canonical: string;
}

/** Thrown for a source mount.lustre cannot parse; `message` is the stderr line. */
export class SourceSyntaxError extends SyntaxError {
  override name = "SourceSyntaxError";
}

const NET_TYPES = ["tcp", "o2ib", "kfi", "gni", "gip", "ptlf", "efa", "bxi3f", "lo"];
const NET_RE = /^([a-z0-9]+?)(\d*)$/;
const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HOST_RE =
  /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
// Real Lustre allows 8 characters; like state.ts, accept 16 so "lustre-fs" examples work.
const FSNAME_RE = /^[A-Za-z0-9_-]{1,16}$/;

/**
 * Prints a NID canonically (`tcp0` -> `tcp`, host name -> IP), or null when it is not a NID.
 * Returns "unsupported" for a well-formed NID on an unknown network type.
 */
export function canonicalNid(
  nid: string,
  hosts: Record<string, string> = {},
): string | null | "unsupported" {
  const at = nid.lastIndexOf("@");
  if (at <= 0) return null;
  const addr = nid.slice(0, at);
  const net = nid.slice(at + 1);
  const m = NET_RE.exec(net);
  if (!m) return null;
  const [, type, num] = m;
  if (!NET_TYPES.includes(type)) return /^[a-z]+\d*$/.test(net) ? "unsupported" : null;
  const netName = num === "" || Number(num) === 0 ? type : `${type}${Number(num)}`;
  if (type === "lo") return addr === "0" ? "0@lo" : null;
  let ip = addr;
  if (!IPV4_RE.test(addr)) {
    if (!HOST_RE.test(addr) || !(addr in hosts)) return null;
    ip = hosts[addr];
  }
  const octets = IPV4_RE.exec(ip);
  if (!octets || octets.slice(1).some((o) => Number(o) > 255)) return null;
  return `${octets.slice(1).map(Number).join(".")}@${netName}`;
}

/**
 * Parses a client mount source the way mount.lustre does.
 * @throws SourceSyntaxError with mount.lustre's message when it is malformed
 */
export function parseLustreSource(
  source: string,
  hosts: Record<string, string> = {},
): LustreSource {
  const split = source.indexOf(":/");
  if (split < 0) throw new SourceSyntaxError(`Invalid mount string ${source}`);
  const nodesPart = source.slice(0, split);
  const pathPart = source.slice(split + 2);
  if (nodesPart === "") throw new SourceSyntaxError(`Invalid mount string ${source}`);

  const mgsNodes: string[][] = [];
  let offset = 0;
  for (const node of nodesPart.split(":")) {
    const nids: string[] = [];
    for (const nid of node.split(",")) {
      const canonical = canonicalNid(nid, hosts);
      if (canonical === "unsupported") throw new SourceSyntaxError(`Unsupported NID '${nid}'`);
      if (canonical === null) {
        throw new SourceSyntaxError(`Can't parse NID '${source.slice(offset)}'`);
      }
      nids.push(canonical);
      offset += nid.length + 1;
    }
    mgsNodes.push(nids);
  }

  const segments = pathPart.split("/").filter((s) => s !== "");
  const fsname = segments.shift() ?? "";
  if (!FSNAME_RE.test(fsname) || pathPart.startsWith("/")) {
    throw new SourceSyntaxError(`Invalid mount string ${source}`);
  }
  if (segments.some((s) => s === "." || s === "..")) {
    throw new SourceSyntaxError(`Invalid mount string ${source}`);
  }
  const subdir = segments.join("/");
  const nodes = mgsNodes.map((n) => n.join(",")).join(":");
  return {
    mgsNodes,
    fsname,
    subdir,
    canonical: `${nodes}:/${fsname}${subdir ? `/${subdir}` : ""}`,
  };
}
