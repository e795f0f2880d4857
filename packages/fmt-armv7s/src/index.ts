// @genpt/fmt-armv7s: the ARMv7 short-descriptor ("v7s") format with the MediaTek extensions, and its
// independent hardware walker.
export { type Armv7sAttrs, type Armv7sConfig, armv7s, armv7sTestConfigs } from "./armv7s.js";
export { type Armv7sWalkerConfig, armv7sWalker } from "./walker.js";
