// Customer text as every service reads it: the new text apart from quoted history and signatures. Shared by
// intake (what a ticket's summary and validation look at) and triage (what language, intent and urgency are
// judged on), so neither service imports the other.
export { prepareCustomerText, type PreparedText } from "./text-preparation.ts";
