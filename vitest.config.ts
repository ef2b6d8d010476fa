import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "infra/test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // Each file starts its own database (a template clone, or a PGlite instance: ~3 s).
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
  },
});
