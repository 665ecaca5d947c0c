// `npm start`: every Lotty service in one process on the embedded default (PGlite, in-process
// bus and cache). Nothing to install beyond `npm ci`.
import { loadConfig } from "@lotty/platform/config";
import { hostConfigSpec, startEmbedded } from "@lotty/platform/host";
import { createLogger } from "@lotty/platform/log";
import { onShutdownSignals } from "@lotty/platform/rpc";
import { allServices } from "./services.js";

const started = performance.now();
const cfg = loadConfig(hostConfigSpec, process.env);
const logger = createLogger("lotty", { level: cfg.LOTTY_LOG_LEVEL });
const lotty = await startEmbedded(allServices, { port: cfg.LOTTY_PORT, host: cfg.LOTTY_HOST, dataDir: cfg.LOTTY_DATA_DIR, logger });
const url = `http://${cfg.LOTTY_HOST}:${lotty.port}`;
logger.info({ url, dataDir: cfg.LOTTY_DATA_DIR, startMs: Math.round(performance.now() - started) }, "Lotty is ready");
process.stderr.write(`\nLotty is ready on ${url} (gRPC, gRPC-Web, Connect, OFREP); data in ${cfg.LOTTY_DATA_DIR}\n\n`);
onShutdownSignals([() => lotty.close()], logger);
