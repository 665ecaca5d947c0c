export { createLogger, redactPaths, type Logger, type LoggerOptions } from "./logger.js";
