// The leak report: every live table (of one owner, or of anyone) found by a scan of the metadata
// slots, with up to ten named by address, size, owner and whether an RCU grace period still holds it.
import type { Buddy } from "./buddy.js";
import { hex } from "./errors.js";
import { M_LG2, M_LIVE, M_RCU } from "./meta.js";

/** The report, or undefined when nothing is live. */
export function leakReport(b: Buddy, owner?: number): string | undefined {
  const endSlot = (b.frontier - b.base) / 64;
  const shown: string[] = [];
  let count = 0;
  let bytes = 0;
  for (let s = 0; s < endSlot; ) {
    const m = b.meta[s]!;
    const lg2 = m & M_LG2;
    if ((m & M_LIVE) !== 0 && (owner === undefined || b.owner[s] === owner)) {
      count++;
      bytes += 2 ** lg2;
      if (shown.length < 10) {
        const rcu = (m & M_RCU) !== 0 ? ", waiting for an RCU grace period" : "";
        shown.push(`${hex(b.paOf(s))} (2^${lg2} B, owner ${b.owner[s]}${rcu})`);
      }
    }
    s += lg2 === 0 ? 1 : 2 ** (lg2 - 6);
  }
  if (count === 0) return undefined;
  const who = owner === undefined ? "" : ` of owner ${owner}`;
  const more = count > shown.length ? `, and ${count - shown.length} more` : "";
  return `leak: ${count} live table(s)${who}, ${bytes} bytes: ${shown.join(", ")}${more}`;
}
