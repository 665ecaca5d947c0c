import type { Logger } from "@lotty/platform/log";
import type { ServiceModule } from "@lotty/platform/service";
import { GuardrailService, file_lotty_guardrail_v1_guardrail } from "@lotty/proto/guardrail";

/**
 * The guardrail service's contract is served, but its RPCs are not built yet: every call answers
 * UNIMPLEMENTED (tracked as an open issue). It exists so both run modes host all five services.
 */
export async function createGuardrailService(deps: { logger: Logger }): Promise<ServiceModule> {
  return {
    name: "guardrail",
    services: [GuardrailService],
    files: [file_lotty_guardrail_v1_guardrail],
    register: (router) => {
      router.service(GuardrailService, {});
    },
    start: async () => deps.logger.debug("guardrail service started"),
    close: async () => {},
  };
}
