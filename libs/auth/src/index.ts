// Identity and access for Steward's APIs: principals and roles, token verification (jose), the rules
// vocabulary, and its enforcement on fastify routes and gRPC methods, with audit records on Kafka.
export { ROLES, hasRole, isRole, principalLabel, supervises, type IntegrationPrincipal, type Principal, type Role, type UserPrincipal } from "./principal.ts";
export {
  ACCEPTED_ALGORITHMS,
  DEFAULT_CLAIMS,
  TokenRejectedError,
  createTokenVerifier,
  principalFromClaims,
  type ClaimsMapping,
  type TokenVerifier,
  type VerifierSettings,
} from "./token-verifier.ts";
export { authEnv, verifierSettingsOf, type AuthEnv } from "./auth-config.ts";
export {
  agentNamedBy,
  agentSelf,
  allOf,
  decide,
  integration,
  integrationNamedBy,
  role,
  supervisorOf,
  type AccessRule,
  type AccessTable,
  type AuditSpec,
  type Grant,
} from "./access-rules.ts";
export { INTEGRATION_SECURITY_SCHEMES, SECURITY_SCHEMES, bearerJwt, installAccessControl, maybePrincipalOf, principalOf, routeKey, type HttpAccessOptions } from "./http-access.ts";
export { grpcPrincipalOf, secureGrpcService, type GrpcAccessOptions } from "./grpc-access.ts";
export { kafkaAuditSink, type AuditRecord, type AuditSink } from "./audit.ts";
