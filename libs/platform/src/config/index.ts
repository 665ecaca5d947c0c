export { env, type EnvVar, type VarOptions } from "./vars.js";
export { loadConfig, configTable, ConfigError, type Config, type ConfigIssue, type ConfigSpec } from "./load.js";
