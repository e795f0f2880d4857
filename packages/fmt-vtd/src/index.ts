// @genpt/fmt-vtd: the Intel VT-d second-stage page-table format and its independent hardware walker.
export { VTDSS_TEST_CONFIGS, type VtdssAttrs, type VtdssConfig, vtdss } from "./vtdss.js";
export { type VtdssWalkerConfig, vtdssWalker } from "./walker.js";
