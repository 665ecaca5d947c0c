// `npm start`: every Lotty service in one process on the embedded default (PGlite, in-process
// bus and cache). Nothing to install beyond `npm ci`.
import { admissionFromConfig } from "@lotty/platform/admission";
import { authSettingsFromConfig, loadOrCreateLocalSecrets } from "@lotty/platform/auth";
import { loadConfig } from "@lotty/platform/config";
import { hostConfigSpec, startEmbedded } from "@lotty/platform/host";
import { createLogger } from "@lotty/platform/log";
import { onShutdownSignals } from "@lotty/platform/rpc";
import { announceFirstStart } from "./bootstrap.js";
import { allServices } from "./services.js";

const started = performance.now();
const cfg = loadConfig(hostConfigSpec, process.env);
const logger = createLogger("lotty", { level: cfg.LOTTY_LOG_LEVEL });
// Secrets generated into the data directory at first start fill in what is not configured.
const local = cfg.LOTTY_AUTH === "on" ? loadOrCreateLocalSecrets(cfg.LOTTY_DATA_DIR) : undefined;
const auth = authSettingsFromConfig(cfg, local?.secrets) ?? false;
const lotty = await startEmbedded(allServices, {
  port: cfg.LOTTY_PORT,
  host: cfg.LOTTY_HOST,
  dataDir: cfg.LOTTY_DATA_DIR,
  logger,
  auth,
  admission: admissionFromConfig(cfg),
  limits: { readMaxBytes: cfg.LOTTY_RPC_MAX_REQUEST_SIZE },
});
const url = `http://${cfg.LOTTY_HOST}:${lotty.port}`;
if (local?.created && auth && auth.jwt.key.kind === "secret") {
  await announceFirstStart(lotty, url, cfg.LOTTY_DATA_DIR).catch((err: unknown) => {
    logger.warn({ err }, "could not create the first SDK key; create one with `lotty keys create`");
  });
}
logger.info({ url, dataDir: cfg.LOTTY_DATA_DIR, auth: auth ? "on" : "off", startMs: Math.round(performance.now() - started) }, "Lotty is ready");
process.stderr.write(`\nLotty is ready on ${url} (gRPC, gRPC-Web, Connect, OFREP); data in ${cfg.LOTTY_DATA_DIR}\n\n`);
onShutdownSignals([() => lotty.close()], logger);
