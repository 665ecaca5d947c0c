export { hostConfigSpec } from "./config.js";
export { startEmbedded, type EmbeddedLotty, type EmbeddedOptions } from "./embedded.js";
export { contextOf, lateBoundPeers, networkPeers } from "./peers.js";
export { namespacedBus } from "./namespace.js";
