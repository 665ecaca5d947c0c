import { createContextKey, type HandlerContext } from "@connectrpc/connect";

export type ActorKind = "user" | "service" | "system";

/** How a caller proved who it is; absent when nobody checked (auth off). */
export type Credential = "token" | "service-token" | "sdk-key";

/** Who is calling: a person (token subject), a service identity, or an SDK key. */
export interface Actor {
  id: string;
  kind: ActorKind;
  roles: readonly string[];
  credential?: Credential;
  /** SDK keys only: the environment the key was issued for. */
  environment?: string;
}

/** Set by the authentication interceptor; handlers read it through actorOf(). */
export const actorKey = createContextKey<Actor | undefined>(undefined, { description: "lotty actor" });

export const anonymous: Actor = { id: "anonymous", kind: "user", roles: [] };

/**
 * The caller of an RPC. With auth on, the interceptor always sets the verified actor (anonymous
 * on public RPCs) and the `x-lotty-actor` header is never read. With auth off (LOTTY_AUTH=off),
 * the header names the caller ("alice" or "service:guardrail") for the audit log, unverified.
 */
export function actorOf(ctx: HandlerContext): Actor {
  const fromAuth = ctx.values.get(actorKey);
  if (fromAuth) return fromAuth;
  const header = ctx.requestHeader.get("x-lotty-actor")?.trim();
  if (!header) return anonymous;
  return header.startsWith("service:")
    ? { id: header, kind: "service", roles: [] }
    : { id: header, kind: "user", roles: [] };
}
