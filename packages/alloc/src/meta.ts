// Bit layout of the allocator's per-slot metadata word (one Uint16 per 64-byte slot of the space).
//
// A slot is the first slot of a live table, of a free buddy block, of a parked hot block, or nothing.
// The low five bits give the size (lg2) of that table or block.

/** Bytes per metadata slot (the smallest table). */
export const SLOT_LG2 = 6;
/** lg2 of the frame that sub-page tables share. */
export const FRAME_LG2 = 12;

export const M_LG2 = 0x1f;
/** First slot of a free buddy block of size 2^lg2. */
export const M_FREE = 1 << 5;
/** First slot of a live table of size 2^lg2. */
export const M_LIVE = 1 << 6;
/** Live table whose memory is DMA-mapped for a walker that does not snoop the CPU cache. */
export const M_INCOH = 1 << 7;
/** Live table whose installer has not finished flushing it (release/acquire flag). */
export const M_FLUSHING = 1 << 8;
/** Live table linked on a TableList (its link word is in use). */
export const M_ONLIST = 1 << 9;
/** Live table waiting for an RCU grace period before it is freed. */
export const M_RCU = 1 << 10;
/** Free block parked in its order's one-entry hot cache: reused first, never merged until flushed. */
export const M_HOT = 1 << 11;

/** Word written over freed memory in debug mode. */
export const POISON = 0xdeadbeef;
