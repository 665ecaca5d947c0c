export { compileRuleset, EMPTY_RULESET } from "./compile.js";
export { decide, decideFirst, decideSecond, decideSticky } from "./decide.js";
export { toAttributes } from "./attributes.js";
export * from "./types.js";
