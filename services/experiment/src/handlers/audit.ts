import { invalidArgument } from "../domain/errors.js";
import { nextPage, pageOf } from "../domain/pagination.js";
import { listAudit } from "../store/audit.js";
import type { Deps } from "./context.js";
import type { Slice } from "./impl.js";

export function auditHandlers(deps: Deps): Slice<"listAuditEvents"> {
  return {
    async listAuditEvents(req) {
      if (req.experimentId === "") throw invalidArgument("experiment_id", "is required");
      const page = pageOf(req.pageSize, req.pageToken);
      const rows = await listAudit(deps.db, { experimentId: req.experimentId, actions: req.actions, after: page.after, limit: page.limit });
      const { items, nextPageToken } = nextPage(rows, page.limit, (r) => r.seq);
      return { events: items.map((r) => r.event), nextPageToken };
    },
  };
}
