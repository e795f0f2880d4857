// One vitest project per package; each inherits the root options (source-first resolution).
import { readdirSync } from "node:fs";
import { defineConfig } from "vitest/config";

const packages = readdirSync(new URL("./packages", import.meta.url));
const conditions = ["@genpt/source"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    projects: packages.map((name) => ({
      extends: true,
      test: { name, root: `packages/${name}`, include: ["test/**/*.test.ts"] },
    })),
  },
});
