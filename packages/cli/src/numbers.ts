// Parsing the numbers a user writes: decimal or 0x-hex, with an optional K/M/G/T suffix (binary units),
// or a JSON number that is a safe integer. Errors name where the value came from.
import { UserError } from "./user-error.js";

const SUFFIX: Record<string, bigint> = {
  K: 1n << 10n,
  M: 1n << 20n,
  G: 1n << 30n,
  T: 1n << 40n,
  P: 1n << 50n,
};

/** Parses `v` as a non-negative integer; `where` names the field for the error ("steps[2].iova"). */
export function parseU64(v: unknown, where: string): bigint {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v) || v < 0)
      throw new UserError(`${where}: ${v} is not a non-negative safe integer; write large values as strings`);
    return BigInt(v);
  }
  if (typeof v !== "string")
    throw new UserError(
      `${where}: expected a number or a string like "0x1000" or "2M", got ${JSON.stringify(v)}`,
    );
  const m = /^\s*(0x[0-9a-f_]+|[0-9_]+)\s*([KMGTP])?i?B?\s*$/i.exec(v);
  if (!m) throw new UserError(`${where}: "${v}" is not a number (use decimal, 0x-hex, or a K/M/G/T suffix)`);
  const n = BigInt(m[1]!.replaceAll("_", ""));
  const out = m[2] ? n * SUFFIX[m[2].toUpperCase()]! : n;
  if (out >= 1n << 64n) throw new UserError(`${where}: "${v}" does not fit in 64 bits`);
  return out;
}

/** Readable byte size: exact units (4K, 2M, 1G) when they divide, else two decimals (3.99G). */
export function bytes(n: bigint): string {
  const units = [
    ["P", 50n],
    ["T", 40n],
    ["G", 30n],
    ["M", 20n],
    ["K", 10n],
  ] as const;
  for (const [s, m] of units) {
    const unit = 1n << m;
    if (n >= unit && n % unit === 0n && n / unit < 10000n) return `${n / unit}${s}`;
  }
  for (const [s, m] of units) {
    const unit = 1n << m;
    if (n >= unit) return `${(Number(n) / Number(unit)).toFixed(2)}${s}`;
  }
  return `${n}B`;
}
