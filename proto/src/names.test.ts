// The vocabulary and the proto enums are one list: every enum value (but UNSPECIFIED) has its name, in order.
import { describe, expect, it } from "vitest";
import { Channel, Priority } from "./gen/steward/v1/common.ts";
import { CHANNELS, PRIORITIES, channelFromProto, channelToProto, priorityFromProto, priorityToProto } from "./names.ts";

const enumKeys = (e: Record<string, unknown>) => Object.keys(e).filter((k) => k !== "UNSPECIFIED" && k !== "UNRECOGNIZED");

describe("vocabulary", () => {
  it("names every channel of the enum, in its order", () => {
    expect(CHANNELS.map((c) => c.toUpperCase())).toEqual(enumKeys(Channel));
    for (const c of CHANNELS) expect(channelFromProto(channelToProto(c))).toBe(c);
    expect(channelFromProto(Channel.UNSPECIFIED)).toBeUndefined();
  });

  it("names every priority of the enum, in its order", () => {
    expect([...PRIORITIES]).toEqual(enumKeys(Priority));
    for (const p of PRIORITIES) expect(priorityFromProto(priorityToProto(p))).toBe(p);
    expect(priorityFromProto(Priority.UNSPECIFIED)).toBeUndefined();
  });
});
