// The entry-level catalog cases (kunit_generic_pt.h), driven through map and checked on the raw items:
// entry_oa (every item of every size loads as a leaf with the right OA, at OA 0 and at the top of the
// OA space) and attr_from_entry (attributes recovered from an entry reinstall it bit for bit).
import { LEAF, PROT_ALL, Prot, PtError, protName } from "@genpt/core";
import { defineCase } from "../case.js";
import { agreeAt, agreeRange, probePoints } from "../support/agree.js";
import { check, eq, fail, show } from "../support/assert.js";
import { entryItems, locate, type RawItem } from "../support/raw.js";
import { levelOfSize, lg2 } from "../support/shape.js";
import type { TestTable } from "../support/table.js";

const RW = Prot.READ | Prot.WRITE;

/** The raw items of the entry mapping `iova`, which must be a leaf of 2^sizeLg2 bytes at `level`. */
function leafItems(t: TestTable, iova: bigint, sizeLg2: number, level: number): RawItem[] {
  const item = locate(t.pt, iova);
  if (!item || item.kind !== LEAF) fail(`no leaf item translates ${show(iova)} after map`, iova);
  eq(item.level, level, `level of the 2^${sizeLg2} leaf`, iova);
  const items = entryItems(t.pt, item);
  eq(items.length, 2 ** (sizeLg2 - t.pt.format.geometry.levels[level]!.itemLg2), "items in the entry", iova);
  return items;
}

export const entryOa = defineCase({
  name: "entry_oa",
  summary: "every item of every size loads as a leaf with the entry's OA and size, at OA 0 and the max OA",
  run(env) {
    const t = env.table();
    const fmt = env.format;
    const g = BigInt(fmt.geometry.levels[0]!.itemLg2);
    const oaEnd = 1n << BigInt(t.info().oaBits);
    const first = t.regions[0]!;
    const last = t.regions[t.regions.length - 1]!;
    for (const s of t.sizes) {
      const sizeLg2 = lg2(s);
      const level = levelOfSize(fmt, sizeLg2);
      // OA 0 at the bottom of the aperture, the highest OA at its top (the other half when sign-extended).
      for (const [iova, pa] of [
        [first.start, 0n],
        [last.end - s, oaEnd - s],
      ] as const) {
        env.at(iova);
        t.pt.map(iova, pa, s, RW);
        for (const it of leafItems(t, iova, sizeLg2, level)) {
          eq(fmt.leafLg2(it.lo, it.hi, level), sizeLg2, `leafLg2 of item ${it.index}`, iova);
          eq(BigInt(fmt.leafOa(it.lo, it.hi, level)) << g, pa, `leafOa of item ${it.index}`, iova);
        }
        agreeRange(t, iova, pa, s, RW);
        if (t.walker) {
          for (const p of probePoints(iova, s, t.granule)) {
            const r = t.probe(p, "read");
            if (!r.ok) fail(`walker faults: ${r.detail}`, p);
            eq(r.pageLg2, sizeLg2, "walker page size", p);
            eq(r.level, level, "walker leaf level", p);
            eq(r.pteAddr, locate(t.pt, p)?.addr, "walker PTE address", p);
          }
        }
        const items = leafItems(t, iova, sizeLg2, level);
        eq(t.pt.unmap(iova, s), s, "unmap of the entry", iova);
        for (const it of items) {
          const lo = t.pt.mem.readU32(it.addr);
          const hi = fmt.geometry.entryBytes === 8 ? t.pt.mem.readU32(it.addr + 4n) : 0;
          check(
            (lo === 0 && hi === 0) || fmt.kind(lo, hi, level) !== LEAF,
            `item ${it.index} still a leaf after unmap`,
            iova,
          );
        }
        for (const p of probePoints(iova, s, t.granule)) agreeAt(t, p, undefined);
      }
    }
  },
});

/** Every prot the caller can pass that grants READ or WRITE. */
function allProts(): number[] {
  const out: number[] = [];
  for (let p = 1; p <= PROT_ALL; p++) if ((p & RW) !== 0) out.push(p);
  return out;
}

/** Recomputes each item from attrsFromEntry and the item's OA; it must equal the raw words. */
function roundTrip(t: TestTable, items: RawItem[], sizeLg2: number, prot: number, iova: bigint): void {
  const fmt = t.pt.format;
  const level = items[0]!.level;
  const unit = 2 ** (fmt.geometry.levels[level]!.itemLg2 - fmt.geometry.levels[0]!.itemLg2);
  const entryOa = fmt.leafOa(items[0]!.lo, items[0]!.hi, level);
  for (const [j, it] of items.entries()) {
    const attrs = fmt.attrsFromEntry(it.lo, it.hi, level);
    const oa = fmt.replicatedContig ? entryOa : entryOa + j * unit;
    const lo = fmt.leafLo(oa, sizeLg2, level, attrs) >>> 0;
    const hi = fmt.leafHi(oa, sizeLg2, level, attrs) >>> 0;
    if (lo !== it.lo || hi !== it.hi)
      fail(
        `${protName(prot)} 2^${sizeLg2} item ${j}: reinstalling attrsFromEntry gives ${show({ hi, lo })}, the entry is ${show({ hi: it.hi, lo: it.lo })}`,
        iova,
      );
  }
}

export const attrFromEntry = defineCase({
  name: "attr_from_entry",
  summary:
    "for every accepted prot and size, attrsFromEntry reinstalls the entry bit for bit; rejected prots change nothing",
  run(env) {
    const t = env.table();
    const fmt = env.format;
    const iova = t.regions[0]!.start;
    const oaEnd = 1n << BigInt(t.info().oaBits);
    let accepted = 0;
    for (const prot of allProts()) {
      try {
        fmt.protToAttrs(prot);
      } catch (e) {
        if (!(e instanceof PtError)) fail(`protToAttrs(${protName(prot)}) threw ${String(e)}, not a PtError`);
        if (prot === RW) fail(`READ|WRITE must be accepted; protToAttrs threw ${e.code}: ${e.message}`);
        t.rejects(e.code, `map with prot ${protName(prot)}`, (pt) => pt.map(iova, 0n, t.granule, prot), iova);
        continue;
      }
      accepted++;
      for (const s of t.sizes) {
        const sizeLg2 = lg2(s);
        const level = levelOfSize(fmt, sizeLg2);
        const pa = 2n * s <= oaEnd ? s : 0n;
        t.pt.map(env.at(iova), pa, s, prot);
        const once = leafItems(t, iova, sizeLg2, level);
        roundTrip(t, once, sizeLg2, prot, iova);
        eq(t.pt.unmap(iova, s), s, "unmap", iova);
        t.pt.map(iova, pa, s, prot);
        const again = leafItems(t, iova, sizeLg2, level);
        for (const [j, it] of again.entries()) {
          if (it.lo !== once[j]!.lo || it.hi !== once[j]!.hi)
            fail(`${protName(prot)} 2^${sizeLg2} item ${j}: map after unmap wrote different bits`, iova);
        }
        eq(t.pt.unmap(iova, s), s, "unmap", iova);
      }
    }
    check(accepted > 0, "no prot accepted");
  },
});
