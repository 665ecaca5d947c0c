import { Health } from "@lotty/proto/grpc-health";
import { reflectionServices } from "../rpc/reflection.js";

/**
 * Priority classes, each with its own in-flight budget: `decide` is the hot path (Decide,
 * DecideBatch, OFREP), shed first under overload; `admin` is everything else, so people can
 * still reach the platform while decides are being shed.
 */
export const PRIORITY_CLASSES = ["decide", "admin"] as const;
export type PriorityClass = (typeof PRIORITY_CLASSES)[number];

/** Health checks and reflection are always admitted: a probe that fails under load gets the pod killed. */
export type Admission = PriorityClass | "exempt";

const DECIDE_METHODS = new Set(["lotty.decision.v1.DecisionService/Decide", "lotty.decision.v1.DecisionService/DecideBatch"]);
const EXEMPT_SERVICES = new Set([Health.typeName, ...reflectionServices]);

export function classifyRpc(service: string, method: string): Admission {
  if (EXEMPT_SERVICES.has(service)) return "exempt";
  return DECIDE_METHODS.has(`${service}/${method}`) ? "decide" : "admin";
}

/** Plain-HTTP routes: OFREP evaluations are decides; anything else a service adds is admin. */
export function classifyHttp(path: string): PriorityClass {
  return path.startsWith("/ofrep/") ? "decide" : "admin";
}
