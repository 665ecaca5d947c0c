export { LottyProvider, type LottyProviderOptions } from "./provider.js";
