import type { Interceptor } from "@connectrpc/connect";
import type { HttpRoute } from "../rpc/http-routes.js";
import { createAuthenticator, type Authenticate } from "./authenticate.js";
import { guardHttpRoutes } from "./http.js";
import { authInterceptor, bearerInterceptor } from "./interceptor.js";
import { userTokenVerifier } from "./jwt.js";
import { SERVICE_NAMES, type ServiceName } from "./policy.js";
import type { SdkKeyVerifier } from "./sdk-keys.js";
import { serviceTokenSigner, serviceTokenVerifier } from "./service-tokens.js";
import type { AuthSettings } from "./settings.js";

/** What a host wires in: the server interceptor, the HTTP route guard, and peers' service identity. */
export interface HostAuth {
  readonly authenticate: Authenticate;
  readonly interceptor: Interceptor;
  guardHttp(routes: readonly HttpRoute[]): HttpRoute[];
  /** `service:<name>`'s token source (renews itself). */
  serviceToken(name: ServiceName): () => Promise<string>;
  /** Client interceptor that presents `service:<name>`'s token to peers. */
  peerInterceptor(name: ServiceName): Interceptor;
}

export function isServiceName(name: string): name is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(name);
}

export function createHostAuth(settings: AuthSettings, sdkKeys: () => SdkKeyVerifier | undefined): HostAuth {
  const authenticate = createAuthenticator({ user: userTokenVerifier(settings.jwt), service: serviceTokenVerifier(settings.serviceSecret), sdkKeys });
  return {
    authenticate,
    interceptor: authInterceptor({ authenticate }),
    guardHttp: (routes) => guardHttpRoutes(routes, authenticate),
    serviceToken: (name) => serviceTokenSigner(name, settings.serviceSecret),
    peerInterceptor: (name) => bearerInterceptor(serviceTokenSigner(name, settings.serviceSecret)),
  };
}
