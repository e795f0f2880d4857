// The shared conformance suite on every v7s test configuration. With the MediaTek extension the
// permission bits carry PA bits, so the walker checks no permissions there.
import { describeConformance } from "@genpt/conformance/vitest";
import { type Armv7sConfig, armv7s, armv7sTestConfigs, armv7sWalker } from "../src/index.js";

describeConformance(
  "armv7s",
  (c: Armv7sConfig) => ({
    format: armv7s(c),
    walker: armv7sWalker({ mtkExt: c.mtkExt, ttbrExt: c.ttbrExt, noPerms: c.noPerms }),
    quirks: { walkerIgnoresPermissions: c.mtkExt === true || c.noPerms === true },
  }),
  [...armv7sTestConfigs],
);
