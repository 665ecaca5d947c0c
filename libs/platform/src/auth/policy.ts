/**
 * Who may call what: every RPC of every Lotty service, in one table. The authentication
 * interceptor enforces it; test/auth/role-matrix.test.ts walks it against a running system, and
 * libs/platform/test/auth/policy.test.ts checks that no RPC of any service descriptor is missing.
 * Keys are full service type names and method names as in the protos, so the table needs no
 * service contract imports (the platform stays below the services).
 */

export const ROLES = ["admin", "experimenter", "approver", "viewer"] as const;
export type Role = (typeof ROLES)[number];

/** Service identities (`service:<name>` in service tokens). */
export const SERVICE_NAMES = ["experiment", "decision", "metrics", "guardrail", "notification"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface Rule {
  /** Anyone, without credentials (health, reflection). */
  readonly public?: boolean;
  readonly roles: readonly Role[];
  /** SDK keys (`Bearer lotty_sdk_…`) may call it. */
  readonly sdk?: boolean;
  /** Service identities allowed besides the roles. */
  readonly services?: readonly ServiceName[];
}

const READ: Rule = { roles: ["viewer", "experimenter", "approver", "admin"] };
const WRITE: Rule = { roles: ["experimenter", "admin"] };
const APPROVE: Rule = { roles: ["approver", "admin"] };
const ADMIN: Rule = { roles: ["admin"] };
const SDK: Rule = { roles: ["admin"], sdk: true };
const PUBLIC: Rule = { public: true, roles: [] };

const also = (rule: Rule, ...services: ServiceName[]): Rule => ({ ...rule, services });

export const rpcPolicy: Readonly<Record<string, Readonly<Record<string, Rule>>>> = {
  "lotty.experiment.v1.ExperimentService": {
    CreateFlag: WRITE,
    GetFlag: READ,
    ListFlags: READ,
    UpdateFlag: WRITE,
    ArchiveFlag: WRITE,
    CreateExperiment: WRITE,
    CreateRollout: WRITE,
    // The guardrail service reads the experiments it watches.
    GetExperiment: also(READ, "guardrail", "metrics"),
    ListExperiments: also(READ, "guardrail"),
    UpdateExperiment: WRITE,
    ListExperimentVersions: READ,
    SubmitExperiment: WRITE,
    ApproveExperiment: APPROVE,
    RequestChanges: APPROVE,
    RejectExperiment: APPROVE,
    ReopenExperiment: WRITE,
    StartExperiment: WRITE,
    // Lifecycle calls a guardrail (or the autopilot) makes on its own.
    PauseExperiment: also(WRITE, "guardrail"),
    ResumeExperiment: WRITE,
    CompleteExperiment: also(WRITE, "guardrail"),
    ArchiveExperiment: WRITE,
    SetRampStep: also(WRITE, "guardrail"),
    ListAuditEvents: READ,
    SetApproverGroup: ADMIN,
    ListApproverGroups: READ,
    CreateConflictDomain: WRITE,
    GetConflictDomain: READ,
    ListConflictDomains: READ,
    UpdateConflictDomain: WRITE,
    DeleteConflictDomain: WRITE,
    GetParticipationPolicy: READ,
    UpdateParticipationPolicy: ADMIN,
    CreateSdkKey: ADMIN,
    ListSdkKeys: ADMIN,
    RevokeSdkKey: ADMIN,
    // Holds SDK key hashes: the decide path and the event intake only.
    GetRuleset: also(ADMIN, "decision", "metrics"),
  },
  "lotty.decision.v1.DecisionService": {
    Decide: SDK,
    DecideBatch: SDK,
    GetAssignments: READ,
    GetRulesetStatus: READ,
  },
  "lotty.metrics.v1.MetricsService": {
    CreateEventType: WRITE,
    GetEventType: READ,
    ListEventTypes: READ,
    UpdateEventType: WRITE,
    ArchiveEventType: WRITE,
    TrackEvents: SDK,
    CreateMetric: WRITE,
    GetMetric: also(READ, "guardrail"),
    ListMetrics: READ,
    UpdateMetric: WRITE,
    ArchiveMetric: WRITE,
    SetExperimentMetrics: WRITE,
    GetExperimentMetrics: READ,
    GetReport: also(READ, "guardrail"),
    GetMetricValue: also(READ, "guardrail"),
    BatchGetMetricValues: also(READ, "guardrail"),
  },
  "lotty.guardrail.v1.GuardrailService": {
    CreateGuardrail: WRITE,
    GetGuardrail: READ,
    ListGuardrails: READ,
    UpdateGuardrail: WRITE,
    DeleteGuardrail: WRITE,
    // What the sweep CronJob calls (with an experimenter or admin token).
    Sweep: WRITE,
    ListTriggers: READ,
    GetAutopilot: READ,
    HoldAutopilot: WRITE,
    ResumeAutopilot: WRITE,
    SkipRampStep: WRITE,
  },
  "lotty.notification.v1.NotificationService": {
    // Channels hold delivery secrets (webhook URLs, tokens): admins manage them.
    CreateChannel: ADMIN,
    GetChannel: READ,
    ListChannels: READ,
    UpdateChannel: ADMIN,
    DeleteChannel: ADMIN,
    TestChannel: ADMIN,
    CreateRule: WRITE,
    GetRule: READ,
    ListRules: READ,
    UpdateRule: WRITE,
    DeleteRule: WRITE,
    ListDeliveries: READ,
    RetryDelivery: WRITE,
  },
};

/** Services every host serves to anyone: probes and tooling discovery. */
export const publicServices: readonly string[] = [
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];

/** Plain-HTTP routes that need credentials (by path prefix); other routes (/healthz, /metrics) are public. */
export const httpPolicy: ReadonlyArray<{ prefix: string; rule: Rule }> = [{ prefix: "/ofrep/", rule: SDK }];

/** The rule of one RPC; undefined means the RPC is unknown to the table and is refused. */
export function ruleFor(service: string, method: string): Rule | undefined {
  if (publicServices.includes(service)) return PUBLIC;
  return rpcPolicy[service]?.[method];
}

export function httpRuleFor(path: string): Rule | undefined {
  return httpPolicy.find((p) => path.startsWith(p.prefix))?.rule;
}
