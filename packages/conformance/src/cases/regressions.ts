// Two regressions kunit_iommu_pt.h keeps, run when the format offers what they need. pgsize_boundary:
// the AMD report where a stale lazy VA fired a debug check (genpt-upstream §6.4). mixed: the VT-d
// super-page report where [0x3fe400000, 0x4c0600000) must map as 14x2M + 3x1G + 3x2M.
import { Prot } from "@genpt/core";
import { defineCase, type Probe } from "../case.js";
import { agreeAt, agreeRange } from "../support/agree.js";
import { eq, fail } from "../support/assert.js";
import { greedyPlan, leafMap, planText } from "../support/shape.js";

const RW = Prot.READ | Prot.WRITE;
const K4 = 0x1000n;
const M2 = 0x20_0000n;
const G1 = 0x4000_0000n;

/** Why a fixed scenario [iova, iova + size) -> pa with these sizes cannot run here, if it cannot. */
function cannotRun(p: Probe, iova: bigint, pa: bigint, size: bigint, sizes: bigint[]): string | undefined {
  const missing = sizes.filter((s) => !p.info.pgsizes.includes(s));
  if (missing.length > 0) return `needs page sizes ${missing.map((s) => `0x${s.toString(16)}`).join(", ")}`;
  if (
    p.info.features.signExtend
      ? iova + size > 1n << BigInt(p.info.vaBits - 1)
      : iova + size > 1n << BigInt(p.info.vaBits)
  )
    return `needs IOVAs up to 0x${(iova + size).toString(16)}`;
  if (p.subject.format.geometry.vaPrefix === "ones") return "needs IOVAs near zero";
  if (pa + size > 1n << BigInt(p.info.oaBits)) return `needs OAs up to 0x${(pa + size).toString(16)}`;
  return undefined;
}

const BOUNDARY = { iova: 0xfef8_0000n, pa: 0x20_8b95_d000n, size: 0x2_0000n };
const MIXED = { iova: 0x3_fe40_0000n, size: 0x4_c060_0000n - 0x3_fe40_0000n };

export const pgsizeBoundary = defineCase({
  name: "pgsize_boundary",
  summary: "VA 0xfef80000-0xfef9ffff -> OA 0x208b95d000 maps page by page as the rule says (AMD regression)",
  skipIf: (p) => cannotRun(p, BOUNDARY.iova, BOUNDARY.pa, BOUNDARY.size, [K4]),
  run(env) {
    const t = env.table();
    const { iova, pa, size } = BOUNDARY;
    t.pt.map(env.at(iova), pa, size, RW);
    const plan = greedyPlan(t.sizes, iova, pa, size);
    eq(planText(leafMap(t.pt.census().leaves)), planText(plan), "leaves of the boundary mapping", iova);
    for (let off = 0n; off < size; off += K4) agreeAt(t, env.at(iova + off), { pa: pa + off, prot: RW });
    eq(t.pt.unmap(iova, size), size, "unmap", iova);
    agreeAt(t, iova, undefined);
  },
});

export const mixed = defineCase({
  name: "mixed",
  summary: "[0x3fe400000, 0x4c0600000) with 4K/2M/1G maps as 14x2M + 3x1G + 3x2M (VT-d regression)",
  skipIf: (p) => cannotRun(p, MIXED.iova, MIXED.iova, MIXED.size, [K4, M2, G1]),
  run(env) {
    const t = env.table({ pgsizes: [K4, M2, G1] });
    const { iova, size } = MIXED;
    t.pt.map(env.at(iova), iova, size, RW);
    const c = t.pt.census();
    eq(
      planText(leafMap(c.leaves)),
      planText(
        new Map([
          [21, 17],
          [30, 3],
        ]),
      ),
      "leaves of the mixed mapping",
      iova,
    );
    const entries = Object.values(c.leaves).reduce((a, b) => a + b, 0);
    if (entries !== 20) fail(`the mixed mapping has ${entries} entries, expected 20`, iova);
    // The first 1G page starts after 14 2M pages; the last 2M run starts after it.
    const firstG = iova + 14n * M2;
    const lastM = firstG + 3n * G1;
    eq(firstG % G1, 0n, "alignment of the first 1G page (scenario arithmetic)");
    for (const [a, s] of [
      [iova, M2],
      [firstG - M2, M2],
      [firstG, G1],
      [lastM - G1, G1],
      [lastM, M2],
      [iova + size - M2, M2],
    ] as const) {
      agreeRange(t, a, a, s, RW);
    }
    eq(t.pt.unmap(iova, size), size, "unmap", iova);
  },
});
