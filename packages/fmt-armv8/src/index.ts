// @genpt/fmt-armv8: the ARMv8 LPAE format (stage 1 and 2, 4K/16K/64K granules) and its SMMUv3 walker.
export { ARMV8_TEST_CONFIGS, type Armv8Attrs, type Armv8Config, armv8 } from "./armv8.js";
export { type Armv8WalkerConfig, armv8Walker } from "./walker.js";
