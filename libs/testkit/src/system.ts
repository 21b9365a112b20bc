// Per-test-file isolation on the shared broker and store: a unique topic prefix and database, and
// the environment a service's config parser expects.
import { inject } from "vitest";
import { uniqueName } from "./helpers.ts";
import { testAuthEnv } from "./auth.ts";

declare module "vitest" {
  export interface ProvidedContext {
    kafkaBrokers: string;
    mongoUri: string;
    infraMode: string;
  }
}

export interface TestEnv {
  brokers: string[];
  mongoUri: string;
  topicPrefix: string;
  database: string;
  /** Environment for services under test: shared infra, isolated names, ports chosen by the OS. */
  env: Record<string, string>;
}

export function isolatedEnv(name: string, extra: Record<string, string> = {}): TestEnv {
  const brokers = inject("kafkaBrokers").split(",");
  const mongoUri = inject("mongoUri");
  const id = uniqueName(name);
  const topicPrefix = `${id}.`;
  const database = id.replace(/-/g, "_").slice(0, 60);
  return {
    brokers,
    mongoUri,
    topicPrefix,
    database,
    env: {
      KAFKA_BROKERS: brokers.join(","),
      MONGODB_URI: mongoUri,
      MONGODB_DATABASE: database,
      STEWARD_TOPIC_PREFIX: topicPrefix,
      LOG_LEVEL: "error",
      INTAKE_HTTP_PORT: "0",
      INTAKE_GRPC_PORT: "0",
      ROUTING_HTTP_PORT: "0",
      ROUTING_GRPC_PORT: "0",
      TRIAGE_HTTP_PORT: "0",
      ESCALATION_HTTP_PORT: "0",
      // People's tokens are this file's key set; intake takes anonymous submissions as the dev integration.
      ...testAuthEnv,
      INTAKE_DEV_MODE: "true",
      INTAKE_ALLOW_ANONYMOUS_DEV: "true",
      ...extra,
    },
  };
}
