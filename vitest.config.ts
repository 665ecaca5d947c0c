import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["{libs,services,apps,sdk}/*/test/**/*.test.ts", "test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
