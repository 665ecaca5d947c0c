// Preloaded with NODE_OPTIONS=--import=… (Node 20 refuses --cpu-prof there): profiles the whole
// process with the inspector and writes a .cpuprofile into $LOTTY_CPU_PROFILE_DIR at exit.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";

const session = new Session();
session.connect();
session.post("Profiler.enable");
session.post("Profiler.start");
process.on("exit", () => {
  // Main-thread inspector sessions answer synchronously, so this completes inside "exit".
  session.post("Profiler.stop", (err, res) => {
    if (!err) writeFileSync(join(process.env.LOTTY_CPU_PROFILE_DIR ?? ".", `${process.pid}.cpuprofile`), JSON.stringify(res.profile));
  });
});
