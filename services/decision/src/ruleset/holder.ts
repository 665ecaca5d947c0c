import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import type { Cache } from "@lotty/platform/cache";
import type { Logger } from "@lotty/platform/log";
import type { Guard } from "@lotty/platform/resilience";
import { GetRulesetStatusResponseSchema, RulesetSource, type GetRulesetStatusResponse } from "@lotty/proto/decision";
import { RulesetSchema, type ExperimentService, type Ruleset, type RulesetFlag } from "@lotty/proto/experiment";
import { compileRuleset, EMPTY_RULESET, type CompiledRuleset } from "../domain/index.js";
import { decodeChange, withFlag, type RulesetChange } from "./changes.js";

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
  /** What `compiled` was compiled from, kept for the snapshot after in-place changes. */
  private raw: Ruleset | undefined;
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
   * Handles a ruleset change event. A flag change that is all of the next version is applied in
   * place (no GetRuleset round trip); a version this replica already serves is ignored; anything
   * else (a gap, an experiment change, an undecodable event) refreshes. A missed event leaves a
   * gap that the next event or the periodic resync heals.
   */
  onChange(subject: string, data: Uint8Array): Promise<void> {
    let change: RulesetChange;
    try {
      change = decodeChange(subject, data);
    } catch (err) {
      this.deps.logger.warn({ err, subject }, "undecodable ruleset change; refreshing");
      return this.refresh();
    }
    // Version 0 means the producer did not say which version: refresh.
    if (this.source === RulesetSource.LIVE && change.version > 0n) {
      if (change.version <= this.compiled.version) return Promise.resolve();
      if (change.flag && change.version === this.compiled.version + 1n) {
        this.applyFlag(change.version, change.flag);
        return Promise.resolve();
      }
    }
    return this.refresh();
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
    // An event applied in place while this request was in flight may already be newer.
    if (this.source === RulesetSource.LIVE && res.ruleset.version <= this.compiled.version) return;
    this.install(res.ruleset, RulesetSource.LIVE);
    this.saveSnapshot(res.ruleset);
  }

  private applyFlag(version: bigint, flag: RulesetFlag): void {
    this.compiled = withFlag(this.compiled, version, flag);
    this.loadMs = Date.now();
    if (!this.raw) return;
    // A copy: the loaded ruleset may be shared with its producer (in-process transports).
    const flags = this.raw.flags.filter((f) => f.key !== flag.key);
    flags.push(flag);
    this.raw = { ...this.raw, version, flags };
    this.saveSnapshot(this.raw);
  }

  private saveSnapshot(ruleset: Ruleset): void {
    const snapshot = Buffer.from(toBinary(RulesetSchema, ruleset)).toString("base64");
    this.deps.guards.cache.execute(() => this.deps.cache.set(SNAPSHOT_KEY, snapshot)).catch((err: unknown) => {
      this.deps.logger.warn({ err }, "could not store the ruleset snapshot");
    });
  }

  private install(ruleset: Ruleset, source: RulesetSource): void {
    const compiled = compileRuleset(ruleset);
    for (const e of compiled.errors) this.deps.logger.error(e, "experiment left out of the ruleset: it does not compile");
    this.compiled = compiled;
    this.raw = ruleset;
    this.source = source;
    this.loadMs = Date.now();
    this.deps.logger.info({ version: ruleset.version.toString(), source: RulesetSource[source] }, "ruleset loaded");
  }
}
