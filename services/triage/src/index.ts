// What other packages may use from triage: the pure domain (intake uses its text preparation).
export * from "./domain/index.ts";
