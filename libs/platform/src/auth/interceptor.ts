import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { actorKey, anonymous } from "./actor.js";
import { allows, bearerOf, type Authenticate } from "./authenticate.js";
import { CredentialError } from "./jwt.js";
import { ruleFor as defaultRuleFor, type Rule } from "./policy.js";

export interface AuthInterceptorOptions {
  authenticate: Authenticate;
  /** The policy; the table in policy.ts unless a test swaps it. */
  ruleFor?: (service: string, method: string) => Rule | undefined;
}

/**
 * Authenticates every RPC and enforces the policy table. UNAUTHENTICATED: no, malformed,
 * expired, foreign or tampered credentials. PERMISSION_DENIED: a valid caller whose roles (or
 * service identity, or SDK key) the RPC does not allow, and any RPC missing from the table.
 * Messages name the reason, never the credential. The verified actor is what actorOf() returns;
 * the x-lotty-actor header plays no part.
 */
export function authInterceptor(opts: AuthInterceptorOptions): Interceptor {
  const ruleFor = opts.ruleFor ?? defaultRuleFor;
  return (next) => async (req) => {
    const rule = ruleFor(req.service.typeName, req.method.name);
    if (rule?.public) {
      req.contextValues.set(actorKey, anonymous);
      return next(req);
    }
    let actor;
    try {
      actor = await opts.authenticate(bearerOf(req.header.get("authorization")));
    } catch (err) {
      if (err instanceof CredentialError) throw new ConnectError(err.message, Code.Unauthenticated);
      throw err;
    }
    if (!actor) throw new ConnectError("credentials required: `authorization: Bearer <token or SDK key>`", Code.Unauthenticated);
    if (!rule || !allows(rule, actor)) throw new ConnectError(`${actor.id} may not call ${req.method.name}`, Code.PermissionDenied);
    req.contextValues.set(actorKey, actor);
    return next(req);
  };
}

/** Client side: adds `authorization: Bearer <token>` from a source called per request (service tokens renew themselves). */
export function bearerInterceptor(token: () => Promise<string> | string): Interceptor {
  return (next) => async (req) => {
    req.header.set("authorization", `Bearer ${await token()}`);
    return next(req);
  };
}
