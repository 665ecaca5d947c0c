import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { AssignmentSchema, DecisionService, type DecideResponse } from "@lotty/proto/decision";
import { toAttributes } from "../domain/index.js";
import type { Decider, DecisionResult } from "../decider.js";
import type { RulesetHolder } from "../ruleset/holder.js";
import type { AssignmentStore } from "../store/assignments.js";
import type { ExperimentEnds } from "../store/experiment-ends.js";
import type { Guard } from "@lotty/platform/resilience";
import { validateDecide, validateDecideBatch, validateSubject } from "./validate.js";

export interface RpcHandlerDeps {
  decider: Decider;
  holder: RulesetHolder;
  store: AssignmentStore;
  dbGuard: Guard;
  ends: ExperimentEnds;
}

/**
 * The message as a literal (protobuf-es messages are plain objects; the compiler checks every
 * field): create() spends ~1 µs per message on reflection, for each decision of a DecideBatch.
 */
function toResponse(d: DecisionResult): DecideResponse {
  return {
    $typeName: "lotty.decision.v1.DecideResponse",
    flagKey: d.flagKey,
    value: d.value,
    decisionId: d.decisionId,
    experimentId: d.experimentId,
    variant: d.variant,
    reason: d.reason,
    rulesetVersion: d.rulesetVersion,
    detail: d.detail,
  };
}

/** Translates DecisionService RPCs to the decider; validation only, no decisions made here. */
export function registerRpc(router: ConnectRouter, deps: RpcHandlerDeps): void {
  router.service(DecisionService, {
    async decide(req) {
      validateDecide(req);
      const [d] = await deps.decider.decide(req.subjectId, toAttributes(req.attributes), [req.flagKey]);
      return toResponse(d);
    },
    async decideBatch(req) {
      validateDecideBatch(req);
      const keys = req.flagKeys.length > 0 ? req.flagKeys : [...deps.holder.current().flags.keys()];
      const decisions = await deps.decider.decide(req.subjectId, toAttributes(req.attributes), keys);
      return { decisions: decisions.map(toResponse) };
    },
    async getAssignments(req) {
      validateSubject(req.subjectId);
      let records;
      try {
        records = await deps.dbGuard.execute(() => deps.store.forSubject(req.subjectId));
      } catch (err) {
        throw new ConnectError(`assignments unavailable: ${err instanceof Error ? err.message : String(err)}`, Code.Unavailable);
      }
      const ends = deps.ends.current();
      return {
        assignments: records
          .sort((a, b) => a.assignedAtMs - b.assignedAtMs)
          .map((a) => {
            const ended = ends.get(a.experimentId);
            return create(AssignmentSchema, {
              experimentId: a.experimentId,
              variant: a.variant,
              assignTime: timestampFromMs(a.assignedAtMs),
              endTime: ended === undefined ? undefined : timestampFromMs(ended),
            });
          }),
      };
    },
    getRulesetStatus: () => deps.holder.status(),
  });
}
