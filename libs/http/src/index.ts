// Builds each service's fastify app the same way: health routes, OpenAPI at /docs from the route
// schemas, and one error mapping so clients get a stable code and a human message, never a stack.
export { buildHttpApp, type HttpAppOptions } from "./app.ts";
export { ERROR_RESPONSE_SCHEMA, HttpError, errorBody, type ErrorBody } from "./errors.ts";
export { TextRules, type TextRule, type TextSchema } from "./text-rules.ts";
