// Maps protobuf enum numbers to the lowercase names the HTTP APIs and domain modules use (vocabulary.ts).
import { Channel, Priority } from "./gen/steward/v1/common.ts";
import { CHANNELS, PRIORITIES, type ChannelName, type PriorityName } from "./vocabulary.ts";

export { CHANNELS, PRIORITIES, type ChannelName, type PriorityName };
/** The same lists under their older names. */
export const channelNames = CHANNELS;
export const priorityNames = PRIORITIES;

const channelByName: Record<ChannelName, Channel> = {
  email: Channel.EMAIL,
  chat: Channel.CHAT,
  phone: Channel.PHONE,
  social: Channel.SOCIAL,
  web: Channel.WEB,
  api: Channel.API,
};

export function channelToProto(name: ChannelName): Channel {
  return channelByName[name];
}

/** undefined for UNSPECIFIED or unknown numbers: callers reject such events. */
export function channelFromProto(value: Channel): ChannelName | undefined {
  return channelNames[value - 1];
}

export function priorityToProto(name: PriorityName): Priority {
  return (priorityNames.indexOf(name) + 1) as Priority;
}

export function priorityFromProto(value: Priority): PriorityName | undefined {
  return priorityNames[value - 1];
}
