// Raised when the broker cannot durably take an event: callers answer "try again later", never 202.
export class KafkaUnavailableError extends Error {
  readonly code = "KAFKA_UNAVAILABLE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KafkaUnavailableError";
  }
}
