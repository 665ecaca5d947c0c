/**
 * Where the machine's CPU went over an interval, from /proc (Linux): Postgres (the backends of
 * the benchmark's database, and the rest: WAL writer, checkpointer, other databases), the NATS
 * server, this process, and everything else, in core-seconds and as a share of all cores.
 */
import { readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";

export type Group = "postgres: this database" | "postgres: other" | "nats-server" | "this node process" | "replica processes" | "other processes";
const GROUPS: Group[] = ["postgres: this database", "postgres: other", "nats-server", "this node process", "replica processes", "other processes"];

const TICK_S = 0.01; // USER_HZ is 100 on Linux

interface ProcStat {
  group: Group;
  ticks: number; // utime + stime
  start: number; // start time, ticks since boot
}

function readStat(pid: string): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined; // exited meanwhile
  }
  // comm is in parentheses and may hold spaces; the fields after it are space-separated.
  const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const group: Group = Number(pid) === process.pid ? "this node process" : comm === "postgres" ? "postgres: other" : comm === "nats-server" ? "nats-server" : "other processes";
  return { group, ticks: Number(f[11]) + Number(f[12]), start: Number(f[19]) };
}

/**
 * All CPU time of the machine (ticks): busy, waiting for I/O, stolen by the hypervisor (a virtual
 * CPU that was ready to run while the host ran something else), idle.
 */
function machineTicks(): { busy: number; iowait: number; steal: number; all: number } {
  const t = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const all = t.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: all - t[3] - t[4] - t[7], iowait: t[4], steal: t[7], all };
}

/**
 * Starts measuring. Every process is sampled every `everyMs`, so one that exits counts up to its
 * last sample (Postgres closes idle pool connections); one that lives less than a sampling period
 * is missed, which the "not attributed" row shows. `tag` names the Postgres backends of the
 * benchmark's database (call it as they change) and its replica processes; `stop` ends the
 * interval and describes it.
 */
export function startCpuSplit(everyMs = 500): { tag(pids: readonly number[], group: "postgres: this database" | "replica processes"): void; stop(): { table: string; seconds: (g: Group) => number } } {
  const tagged = new Map<string, Group>();
  const first = new Map<string, ProcStat>();
  const last = new Map<string, ProcStat>();
  let bootTicksAtStart = Number.POSITIVE_INFINITY;
  const sample = () => {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      const s = readStat(pid);
      if (!s) continue;
      s.group = tagged.get(pid) ?? s.group;
      if (!first.has(pid)) first.set(pid, s.start >= bootTicksAtStart ? { ...s, ticks: 0 } : s);
      last.set(pid, s);
    }
  };
  const uptimeTicks = () => Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) / TICK_S;
  sample();
  bootTicksAtStart = uptimeTicks();
  const m0 = machineTicks();
  const timer = setInterval(sample, everyMs);
  timer.unref();
  const tag = (pids: readonly number[], group: Group) => pids.forEach((p) => tagged.set(String(p), group));
  const stop = () => {
    clearInterval(timer);
    sample();
    const m1 = machineTicks();
    const cores = cpus().length;
    const wallS = ((m1.all - m0.all) * TICK_S) / cores;
    const used = new Map<Group, number>();
    for (const [pid, s] of last) used.set(s.group, (used.get(s.group) ?? 0) + (s.ticks - first.get(pid)!.ticks) * TICK_S);
    const busyS = (m1.busy - m0.busy) * TICK_S;
    const iowaitS = (m1.iowait - m0.iowait) * TICK_S;
    const stealS = (m1.steal - m0.steal) * TICK_S;
    const share = (s: number) => `${((100 * s) / (wallS * cores)).toFixed(1)} %`;
    const attributed = GROUPS.reduce((a, g) => a + (used.get(g) ?? 0), 0);
    const table = [
      `| CPU over ${wallS.toFixed(1)} s on ${cores} cores | core-seconds | share of all cores |`,
      "|---|---|---|",
      ...GROUPS.map((g) => `| ${g} | ${(used.get(g) ?? 0).toFixed(1)} | ${share(used.get(g) ?? 0)} |`),
      `| not attributed (short-lived processes, kernel) | ${Math.max(0, busyS - attributed).toFixed(1)} | ${share(Math.max(0, busyS - attributed))} |`,
      `| idle, waiting for I/O | ${iowaitS.toFixed(1)} | ${share(iowaitS)} |`,
      `| stolen by the hypervisor | ${stealS.toFixed(1)} | ${share(stealS)} |`,
      `| idle | ${(wallS * cores - busyS - iowaitS - stealS).toFixed(1)} | ${share(wallS * cores - busyS - iowaitS - stealS)} |`,
    ].join("\n");
    return { table, seconds: (g: Group) => used.get(g) ?? 0 };
  };
  return { tag, stop };
}
