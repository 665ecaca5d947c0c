export type { Bus, BusMessage, PublishOptions, SubscribeOptions, Subscription } from "./types.js";
export type { OnDrop } from "./drop.js";
export { subjectMatches, matchesAny } from "./subject.js";
export { createMemoryBus, type MemoryBusOptions } from "./memory.js";
export { createNatsBus, durableName, type NatsBusOptions } from "./nats.js";
