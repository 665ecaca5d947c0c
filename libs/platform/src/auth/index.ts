export { actorKey, actorOf, anonymous, type Actor, type ActorKind, type Credential } from "./actor.js";
export { allows, bearerOf, createAuthenticator, type Authenticate, type AuthenticatorOptions } from "./authenticate.js";
export { createHostAuth, isServiceName, type HostAuth } from "./host-auth.js";
export { guardHttpRoutes } from "./http.js";
export { authInterceptor, bearerInterceptor, type AuthInterceptorOptions } from "./interceptor.js";
export {
  CredentialError,
  DEFAULT_AUDIENCE,
  DEFAULT_ISSUER,
  mintUserToken,
  userTokenVerifier,
  type JwtKeySource,
  type JwtSettings,
  type MintOptions,
} from "./jwt.js";
export { loadOrCreateLocalSecrets, localSecretsPath, readLocalSecrets, type LocalSecrets } from "./local.js";
export { httpPolicy, httpRuleFor, publicServices, ROLES, rpcPolicy, ruleFor, SERVICE_NAMES, type Role, type Rule, type ServiceName } from "./policy.js";
export { followSdkKeys, restoreSdkKeySnapshot, saveSdkKeySnapshot, type SdkKeyFollowerOptions } from "./sdk-key-sync.js";
export { hashSdkKey, SDK_KEY_PREFIX, SdkKeySet, type SdkKeyEntry, type SdkKeyVerifier } from "./sdk-keys.js";
export { SERVICE_ISSUER, serviceTokenSigner, serviceTokenVerifier } from "./service-tokens.js";
export { authSettingsFromConfig, type AuthConfig, type AuthSettings } from "./settings.js";
