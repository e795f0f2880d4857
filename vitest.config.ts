// One vitest project per package and per example; each inherits the root options (source-first resolution).
import { existsSync, readdirSync } from "node:fs";
import { defineConfig } from "vitest/config";

const packages = readdirSync(new URL("./packages", import.meta.url));
// Examples are the directories under examples/ that are packages (examples/scenarios holds only JSON).
const examples = readdirSync(new URL("./examples", import.meta.url)).filter((name) =>
  existsSync(new URL(`./examples/${name}/package.json`, import.meta.url)),
);
const conditions = ["@genpt/source"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    projects: [
      ...packages.map((name) => ({
        extends: true,
        test: { name, root: `packages/${name}`, include: ["test/**/*.test.ts"] },
      })),
      ...examples.map((name) => ({
        extends: true,
        test: { name: `example-${name}`, root: `examples/${name}`, include: ["test/**/*.test.ts"] },
      })),
    ],
  },
});
