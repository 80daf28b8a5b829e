/** Kubernetes resource quantities ("10Gi", "1.5T", "500e6"), as PV capacities use them. */

const QUANTITY = /^([+-]?)(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const MULTIPLIERS: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * The value of a quantity in base units (bytes for storage).
 * @throws SyntaxError when the text is not a Kubernetes quantity
 */
export function parseQuantity(text: string): number {
  const match = QUANTITY.exec(text);
  if (!match) {
    throw new SyntaxError(`"${text}" is not a Kubernetes quantity like 500Gi, 10Ti or 1e12`);
  }
  const [, sign, number, suffix = ""] = match;
  const multiplier = /^[eE][+-]?\d/.test(suffix)
    ? 10 ** Number(suffix.slice(1))
    : MULTIPLIERS[suffix];
  return (sign === "-" ? -1 : 1) * Number(number) * multiplier;
}
