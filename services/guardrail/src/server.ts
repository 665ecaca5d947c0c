import type { Client } from "@connectrpc/connect";
import { actorOf } from "@lotty/platform/auth";
import type { Bus } from "@lotty/platform/bus";
import { loadMigrations, migrate, type Db } from "@lotty/platform/db";
import type { Logger } from "@lotty/platform/log";
import type { ServiceModule } from "@lotty/platform/service";
import type { ExperimentService } from "@lotty/proto/experiment";
import { GuardrailService, file_lotty_guardrail_v1_guardrail } from "@lotty/proto/guardrail";
import type { MetricsService } from "@lotty/proto/metrics";
import { getAutopilot, holdAutopilot, resumeAutopilot, skipRampStep } from "./handlers/autopilot-controls.js";
import type { Ctx } from "./handlers/context.js";
import * as guardrails from "./handlers/guardrails.js";
import { sweep } from "./handlers/sweep.js";

export interface GuardrailServiceDeps {
  db: Db;
  bus: Bus;
  logger: Logger;
  experiment: Client<typeof ExperimentService>;
  metrics: Client<typeof MetricsService>;
  clock?: () => Date;
}

/**
 * Guardrails, their sweep (what the CronJob calls) and the autopilot that executes ramp plans.
 * Applies its migrations on creation; it runs no timers of its own (the sweep is triggered).
 */
export async function createGuardrailService(deps: GuardrailServiceDeps): Promise<ServiceModule> {
  await migrate(deps.db, "guardrail", loadMigrations(new URL("./store/migrations/", import.meta.url)));
  const ctx: Ctx = { ...deps, clock: deps.clock ?? (() => new Date()) };

  return {
    name: "guardrail",
    services: [GuardrailService],
    files: [file_lotty_guardrail_v1_guardrail],
    register: (router) => {
      router.service(GuardrailService, {
        createGuardrail: async (req) => ({ guardrail: await guardrails.createGuardrail(ctx, req) }),
        getGuardrail: async (req) => ({ guardrail: await guardrails.getGuardrail(ctx, req.id) }),
        listGuardrails: (req) => guardrails.listGuardrails(ctx, req),
        updateGuardrail: async (req) => ({ guardrail: await guardrails.updateGuardrail(ctx, req) }),
        deleteGuardrail: async (req) => {
          await guardrails.deleteGuardrail(ctx, req.id);
          return {};
        },
        sweep: (req) => sweep(ctx, req),
        listTriggers: (req) => guardrails.listTriggerHistory(ctx, req),
        getAutopilot: async (req) => ({ autopilot: await getAutopilot(ctx, req.experimentId) }),
        holdAutopilot: async (req, hc) => ({ autopilot: await holdAutopilot(ctx, req.experimentId, req.reason, actorOf(hc).id) }),
        resumeAutopilot: async (req, hc) => ({ autopilot: await resumeAutopilot(ctx, req.experimentId, req.reason, actorOf(hc).id) }),
        skipRampStep: async (req, hc) => ({ autopilot: await skipRampStep(ctx, req.experimentId, req.reason, actorOf(hc).id) }),
      });
    },
    start: async () => deps.logger.debug("guardrail service started"),
    close: async () => {},
  };
}
