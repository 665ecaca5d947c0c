import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import type { Cache } from "@lotty/platform/cache";
import type { Logger } from "@lotty/platform/log";
import type { Guard } from "@lotty/platform/resilience";
import { GetRulesetStatusResponseSchema, RulesetSource, type GetRulesetStatusResponse } from "@lotty/proto/decision";
import { RulesetSchema, type ExperimentService, type Ruleset } from "@lotty/proto/experiment";
import { compileRuleset, EMPTY_RULESET, type CompiledRuleset } from "../domain/index.js";

export const SNAPSHOT_KEY = "lotty:decision:ruleset";

export interface RulesetHolderDeps {
  experiment: Client<typeof ExperimentService>;
  cache: Cache;
  guards: { experiment: Guard; cache: Guard };
  logger: Logger;
}

/**
 * The compiled ruleset this replica serves. Loaded live from the experiment service, else from
 * the last snapshot in the cache; refreshed on demand (events, resync timer), refreshes coalesced.
 */
export class RulesetHolder {
  private compiled: CompiledRuleset = EMPTY_RULESET;
  private source = RulesetSource.EMPTY;
  private loadMs = 0;
  private inflight: Promise<void> | undefined;
  private again = false;

  constructor(private readonly deps: RulesetHolderDeps) {}

  current(): CompiledRuleset {
    return this.compiled;
  }

  status(): GetRulesetStatusResponse {
    return create(GetRulesetStatusResponseSchema, {
      version: this.compiled.version,
      source: this.source,
      loadTime: this.loadMs ? timestampFromMs(this.loadMs) : undefined,
      flagCount: this.compiled.flags.size,
      experimentCount: this.compiled.experiments.size,
    });
  }

  /** First load: live, else the snapshot; with neither the replica serves an empty ruleset. */
  async load(): Promise<void> {
    try {
      await this.refresh();
      return;
    } catch (err) {
      this.deps.logger.warn({ err }, "experiment service unavailable at start; trying the ruleset snapshot");
    }
    try {
      const b64 = await this.deps.guards.cache.execute(() => this.deps.cache.get(SNAPSHOT_KEY));
      if (b64 !== null) this.install(fromBinary(RulesetSchema, Buffer.from(b64, "base64")), RulesetSource.SNAPSHOT);
    } catch (err) {
      this.deps.logger.error({ err }, "no ruleset snapshot either; serving an empty ruleset until the next resync");
    }
  }

  /**
   * Asks the experiment service for anything newer. Concurrent calls share one request, and a
   * call arriving while one is in flight triggers exactly one more afterwards (it may have been
   * caused by a change the in-flight request did not see).
   */
  refresh(): Promise<void> {
    if (this.inflight) {
      this.again = true;
      return this.inflight;
    }
    const run = async (): Promise<void> => {
      try {
        do {
          this.again = false;
          await this.fetch();
        } while (this.again);
      } finally {
        this.inflight = undefined;
      }
    };
    this.inflight = run();
    return this.inflight;
  }

  private async fetch(): Promise<void> {
    // A snapshot's version may be stale in the other direction too; only a live load counts as current.
    const ifNewerThan = this.source === RulesetSource.LIVE ? this.compiled.version : 0n;
    const res = await this.deps.guards.experiment.execute((signal) => this.deps.experiment.getRuleset({ ifNewerThan }, { signal }));
    if (res.notModified || !res.ruleset) return;
    this.install(res.ruleset, RulesetSource.LIVE);
    const snapshot = Buffer.from(toBinary(RulesetSchema, res.ruleset)).toString("base64");
    this.deps.guards.cache.execute(() => this.deps.cache.set(SNAPSHOT_KEY, snapshot)).catch((err: unknown) => {
      this.deps.logger.warn({ err }, "could not store the ruleset snapshot");
    });
  }

  private install(ruleset: Ruleset, source: RulesetSource): void {
    const compiled = compileRuleset(ruleset);
    for (const e of compiled.errors) this.deps.logger.error(e, "experiment left out of the ruleset: it does not compile");
    this.compiled = compiled;
    this.source = source;
    this.loadMs = Date.now();
    this.deps.logger.info({ version: ruleset.version.toString(), source: RulesetSource[source] }, "ruleset loaded");
  }
}
