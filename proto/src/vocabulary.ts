// Steward's shared vocabulary, by name: the channels a ticket arrives on and the priorities, in the order
// of the Channel and Priority enums in proto/steward/v1/common.proto (names.ts maps them, and its test
// fails when an enum value has no name here). No imports, so pure domain modules may use it.

/** The channel names the HTTP APIs, policies and domain modules use, in enum order (CHANNEL_EMAIL = 1). */
export const CHANNELS = ["email", "chat", "phone", "social", "web", "api"] as const;
export type ChannelName = (typeof CHANNELS)[number];

/** P1 is the most urgent; in enum order (PRIORITY_P1 = 1). */
export const PRIORITIES = ["P1", "P2", "P3", "P4"] as const;
export type PriorityName = (typeof PRIORITIES)[number];
