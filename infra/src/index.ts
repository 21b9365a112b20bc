// Real infrastructure for local development and tests: Kafka (KRaft) and FerretDB as local processes.
export * from "./kafka.ts";
export * from "./ferretdb.ts";
