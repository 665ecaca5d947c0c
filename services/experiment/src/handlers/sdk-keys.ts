import { randomUUID } from "node:crypto";
import { assertValid, notFound, type FieldViolation } from "../domain/errors.js";
import { nextPage, pageOf } from "../domain/pagination.js";
import { newSdkSecret } from "../domain/sdk-keys.js";
import { bumpRulesetVersion } from "../store/ruleset.js";
import { insertSdkKey, listSdkKeys, revokeSdkKey } from "../store/sdk-keys.js";
import { inTransaction, type Deps } from "./context.js";
import { experimentChanged } from "./events.js";
import type { Slice } from "./impl.js";

const MAX_LABEL = 200;

function label(field: string, v: string): FieldViolation[] {
  if (v.trim() === "") return [{ field, description: "is required" }];
  return v.length > MAX_LABEL ? [{ field, description: `must be at most ${MAX_LABEL} characters` }] : [];
}

export function sdkKeyHandlers(deps: Deps): Slice<"createSdkKey" | "listSdkKeys" | "revokeSdkKey"> {
  return {
    async createSdkKey(req) {
      assertValid([...label("name", req.name), ...label("environment", req.environment)]);
      const { secret, hash, prefix } = newSdkSecret();
      const now = deps.clock();
      const key = await inTransaction(deps, async (tx, events) => {
        const k = await insertSdkKey(tx, { id: randomUUID(), name: req.name, environment: req.environment, prefix, hash }, now);
        events.push(experimentChanged("sdk_key", await bumpRulesetVersion(tx), now));
        return k;
      });
      return { key, secret };
    },

    async listSdkKeys(req) {
      const page = pageOf(req.pageSize, req.pageToken);
      const rows = await listSdkKeys(deps.db, { includeRevoked: req.includeRevoked, after: page.after, limit: page.limit });
      const { items, nextPageToken } = nextPage(rows, page.limit, (r) => r.seq);
      return { keys: items.map((r) => r.key), nextPageToken };
    },

    async revokeSdkKey(req) {
      const now = deps.clock();
      const key = await inTransaction(deps, async (tx, events) => {
        const res = await revokeSdkKey(tx, req.id, now);
        if (!res) throw notFound("sdk key", req.id);
        if (res.changed) events.push(experimentChanged("sdk_key", await bumpRulesetVersion(tx), now));
        return res.key;
      });
      return { key };
    },
  };
}
