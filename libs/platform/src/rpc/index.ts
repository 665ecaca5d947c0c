export { createRpcServer, type RpcServer, type RpcServerOptions } from "./server.js";
export { createRpcClient, type RpcClientOptions } from "./client.js";
export { onShutdownSignals } from "./shutdown.js";
export { sendText, type HttpRoute, type NodeRequest, type NodeResponse } from "./http-routes.js";
export {
  invalidArgument,
  invalidArguments,
  fieldViolationsOf,
  notFound,
  alreadyExists,
  failedPrecondition,
  aborted,
  type FieldViolation,
} from "./errors.js";
export { DEFAULT_READ_MAX_BYTES, INPUT_LIMITS, lengthViolations, type RpcLimits } from "./limits.js";
export { validatedRouter } from "./validation.js";
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, nextPage, pageOf, type Page } from "./pagination.js";
