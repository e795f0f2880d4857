// Content hash of simulated memory: FNV-1a 64 taken over little-endian 32-bit words instead of bytes.
//
// Why words: a word step costs about as much as a byte step, so the whole hash runs four times faster.
// Why FNV: a zero word XORs to nothing, so a run of n zero words only multiplies the state by P^n.
// That lets an untouched chunk be skipped in O(log n) and still hash exactly like a chunk of zeros.

const TWO32 = 4294967296;
const MASK64 = (1n << 64n) - 1n;
const PRIME = 0x100000001b3n;

/** Running hash state as two unsigned 32-bit halves, so the per-word loop stays in doubles. */
export interface HashState {
  hi: number;
  lo: number;
}

/** The FNV-1a 64 offset basis, split. */
export function hashInit(): HashState {
  return { hi: 0xcbf29ce4, lo: 0x84222325 };
}

/**
 * Folds words[start, end) into the state.
 * P = 2^40 + 0x1b3, so h*P mod 2^64 = h*0x1b3 + (lo << 40): the high half gets lo << 8 and the carry.
 */
export function hashWords(st: HashState, words: Uint32Array, start: number, end: number): void {
  let hi = st.hi;
  let lo = st.lo;
  for (let i = start; i < end; i++) {
    lo = (lo ^ words[i]!) >>> 0;
    const a = lo * 0x1b3; // < 2^41, exact
    hi = (Math.imul(hi, 0x1b3) + Math.floor(a / TWO32) + (lo << 8)) >>> 0;
    lo = a >>> 0;
  }
  st.hi = hi;
  st.lo = lo;
}

/** Folds n zero words into the state: multiply by P^n mod 2^64. BigInt is fine here: once per gap. */
export function hashZeroWords(st: HashState, n: number): void {
  if (n <= 0) return;
  let h = (BigInt(st.hi) << 32n) | BigInt(st.lo);
  let base = PRIME;
  let e = BigInt(n);
  while (e > 0n) {
    if (e & 1n) h = (h * base) & MASK64;
    base = (base * base) & MASK64;
    e >>= 1n;
  }
  st.hi = Number(h >> 32n);
  st.lo = Number(h & 0xffffffffn);
}

/** The state as 16 lowercase hex digits. */
export function hashHex(st: HashState): string {
  return st.hi.toString(16).padStart(8, "0") + st.lo.toString(16).padStart(8, "0");
}
