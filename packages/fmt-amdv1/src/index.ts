// @genpt/fmt-amdv1: the AMD IOMMU v1 host page-table format and its independent hardware walker.
export { AMDV1_TEST_CONFIGS, type Amdv1Attrs, type Amdv1Config, amdv1 } from "./amdv1.js";
export { type Amdv1WalkerConfig, amdv1Walker } from "./walker.js";
