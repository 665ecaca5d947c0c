import type { HttpRoute, NodeRequest, NodeResponse } from "../rpc/http-routes.js";
import { allows, bearerOf, type Authenticate } from "./authenticate.js";
import { CredentialError } from "./jwt.js";
import { httpRuleFor, type Rule } from "./policy.js";

/** Routes a service adds without an entry in httpPolicy are for admins only (fail closed). */
const UNLISTED: Rule = { roles: ["admin"] };

function header(req: NodeRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function refuse(res: NodeResponse, status: 401 | 403, details: string): void {
  // OFREP answers 401/403 with a JSON body; errorDetails as in its error responses.
  res.writeHead(status, { "content-type": "application/json", ...(status === 401 ? { "www-authenticate": "Bearer" } : {}) });
  res.end(JSON.stringify({ errorCode: status === 401 ? "UNAUTHORIZED" : "FORBIDDEN", errorDetails: details }));
}

/** Wraps services' plain-HTTP routes (OFREP) with the same credentials and policy as the RPCs. */
export function guardHttpRoutes(routes: readonly HttpRoute[], authenticate: Authenticate): HttpRoute[] {
  return routes.map((route) => ({
    ...route,
    async handle(req, res, match) {
      const path = (req.url ?? "/").split("?", 1)[0];
      const rule = httpRuleFor(path) ?? UNLISTED;
      if (!rule.public) {
        let actor;
        try {
          actor = await authenticate(bearerOf(header(req, "authorization"), header(req, "x-api-key")));
        } catch (err) {
          if (!(err instanceof CredentialError)) throw err;
          return refuse(res, 401, err.message);
        }
        if (!actor) return refuse(res, 401, "credentials required: `authorization: Bearer <SDK key>`");
        if (!allows(rule, actor)) return refuse(res, 403, `${actor.id} may not call ${path}`);
      }
      return route.handle(req, res, match);
    },
  }));
}
