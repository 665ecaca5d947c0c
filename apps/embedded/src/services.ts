import { decisionDefinition } from "@lotty/decision-service/definition";
import { experimentDefinition } from "@lotty/experiment-service/definition";
import { guardrailDefinition } from "@lotty/guardrail-service/definition";
import { metricsDefinition } from "@lotty/metrics-service/definition";
import { notificationDefinition } from "@lotty/notification-service/definition";
import type { ServiceDefinition } from "@lotty/platform/service";

/** The five services, in start order (the experiment service first: the others read from it). */
export const allServices: readonly ServiceDefinition[] = [
  experimentDefinition,
  decisionDefinition,
  metricsDefinition,
  guardrailDefinition,
  notificationDefinition,
];
