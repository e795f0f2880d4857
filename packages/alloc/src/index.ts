// Public entry of @genpt/alloc: simulated physical memory and the table-level allocator.

export { type AllocatorOptions, type AllocOptions, LevelAllocator } from "./allocator.js";
export { hex, PT_ERROR_CODES, PtError, type PtErrorCode } from "./errors.js";
export { PhysMem, type PhysMemOptions } from "./physmem.js";
export { Rcu } from "./rcu.js";
export type { AllocStats } from "./stats.js";
export { TableList } from "./table-list.js";
