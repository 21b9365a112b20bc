// One test run for the whole monorepo: pure unit tests, and integration tests that share one real
// Kafka + store started by the testkit's global setup (or named by KAFKA_BROKERS / MONGODB_URI).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    reporters: ["default", "./libs/testkit/src/summary-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "{libs,services,proto,infra}/*/src/**/*.test.ts",
            "services/*/test-support/**/*.test.ts",
            "{proto,infra}/src/**/*.test.ts",
            "scripts/*.test.ts",
            "test/**/*.test.ts",
          ],
          exclude: ["**/*.int.test.ts", "**/node_modules/**"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["**/src/**/*.int.test.ts", "test/**/*.int.test.ts"],
          exclude: ["**/node_modules/**"],
          globalSetup: ["./libs/testkit/src/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
