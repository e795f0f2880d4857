// The ends of the VA space (issue 3 "ranges at the very end of the VA space, sign-extended halves"):
// for every region of the aperture, the first and the last entry of each size, and a mixed-size range
// that ends on the last byte, map, translate (iovaToPhys and walker) and unmap with no overflow.
import { Prot } from "@genpt/core";
import { defineCase } from "../case.js";
import { agreeAt, agreeRange } from "../support/agree.js";
import { eq } from "../support/assert.js";
import { greedyPlan, leafMap, planText } from "../support/shape.js";

const RW = Prot.READ | Prot.WRITE;

export const vaEnds = defineCase({
  name: "va_ends",
  summary:
    "first and last entry of each size in every aperture region (both sign-extended halves) map and unmap",
  run(env) {
    const t = env.table();
    const g = t.granule;
    const oaEnd = 1n << BigInt(t.info().oaBits);
    for (const r of t.regions) {
      for (const s of t.sizes.filter((x) => 4n * x <= r.end - r.start && 4n * x <= oaEnd)) {
        for (const iova of [r.start, r.end - s]) {
          t.pt.map(env.at(iova), 2n * s, s, RW);
          agreeRange(t, iova, 2n * s, s, RW);
          eq(t.pt.unmap(iova, s), s, "unmap", iova);
          agreeAt(t, iova + s - 1n, undefined);
        }
        // A granule then a large entry, ending on the region's last byte.
        const iova = env.at(r.end - s - g);
        const pa = 2n * s - g;
        t.pt.map(iova, pa, s + g, RW);
        eq(
          planText(leafMap(t.pt.census().leaves)),
          planText(greedyPlan(t.sizes, iova, pa, s + g)),
          "leaves at the end",
          iova,
        );
        agreeRange(t, iova, pa, s + g, RW);
        eq(t.pt.unmap(iova, s + g), s + g, "unmap at the end", iova);
      }
    }
  },
});
