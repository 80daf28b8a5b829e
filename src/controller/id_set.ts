/**
 * A set of project IDs kept as sorted, disjoint, inclusive ranges: the IDs
 * a controller hands out one after another stay a handful of ranges however
 * many volumes there are, so the allocator record stays small.
 */

/** Inclusive [first, last] ranges, sorted, disjoint and not touching. */
export type IdRanges = [number, number][];

/** The lowest ID in [min, max] not in `used`, or undefined when the range is full. */
export function lowestFree(used: IdRanges, min: number, max: number): number | undefined {
  let candidate = min;
  for (const [first, last] of used) {
    if (last < candidate) continue;
    if (first > candidate) break;
    candidate = last + 1;
  }
  return candidate <= max ? candidate : undefined;
}

/** Whether `id` is in `used`. */
export function hasId(used: IdRanges, id: number): boolean {
  return used.some(([first, last]) => first <= id && id <= last);
}

/** `used` with `id` added. */
export function addId(used: IdRanges, id: number): IdRanges {
  if (hasId(used, id)) return used;
  const out: IdRanges = [];
  let merged: [number, number] = [id, id];
  let placed = false;
  for (const range of used) {
    if (range[1] + 1 < merged[0]) out.push(range);
    else if (range[0] - 1 > merged[1]) {
      if (!placed) out.push(merged), placed = true;
      out.push(range);
    } else merged = [Math.min(range[0], merged[0]), Math.max(range[1], merged[1])];
  }
  if (!placed) out.push(merged);
  return out;
}

/** `used` without `id`. */
export function removeId(used: IdRanges, id: number): IdRanges {
  const out: IdRanges = [];
  for (const [first, last] of used) {
    if (id < first || id > last) out.push([first, last]);
    else {
      if (first < id) out.push([first, id - 1]);
      if (id < last) out.push([id + 1, last]);
    }
  }
  return out;
}
