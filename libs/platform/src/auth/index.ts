import { createContextKey, type HandlerContext } from "@connectrpc/connect";

export type ActorKind = "user" | "service" | "system";

/** Who is calling: a person (token subject) or a service identity. */
export interface Actor {
  id: string;
  kind: ActorKind;
  roles: readonly string[];
}

/** Set by the authentication interceptor; handlers read it through actorOf(). */
export const actorKey = createContextKey<Actor | undefined>(undefined, { description: "lotty actor" });

const anonymous: Actor = { id: "anonymous", kind: "user", roles: [] };

/**
 * The caller of an RPC. Until an authentication interceptor sets one, the `x-lotty-actor`
 * header names the caller ("alice" or "service:guardrail"), which keeps the embedded default
 * usable without tokens.
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
