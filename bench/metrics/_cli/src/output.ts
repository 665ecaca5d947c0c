import { toJson, type DescMessage, type MessageShape } from "@bufbuild/protobuf";

export interface Output {
  readonly json: boolean;
  /** A message as JSON (with --json) or through the human renderer. */
  message<D extends DescMessage>(schema: D, msg: MessageShape<D>, human: (m: MessageShape<D>) => string): void;
  /** Rows as a JSON array of messages (with --json) or a table. */
  list<D extends DescMessage>(schema: D, msgs: readonly MessageShape<D>[], columns: Column<MessageShape<D>>[]): void;
  /** Progress for long work: stderr, only on a terminal and never with --json. */
  progress(text: string): void;
  info(text: string): void;
}

export interface Column<T> {
  header: string;
  value(row: T): string;
}

export function table<T>(rows: readonly T[], columns: Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => c.value(r)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join("\n");
}

export function createOutput(json: boolean, stdout = process.stdout, stderr = process.stderr): Output {
  const interactive = Boolean(stderr.isTTY);
  return {
    json,
    message(schema, msg, human) {
      stdout.write(`${json ? JSON.stringify(toJson(schema, msg), null, 2) : human(msg)}\n`);
    },
    list(schema, msgs, columns) {
      if (json) stdout.write(`${JSON.stringify(msgs.map((m) => toJson(schema, m)), null, 2)}\n`);
      else stdout.write(`${msgs.length === 0 ? "(none)" : table(msgs, columns)}\n`);
    },
    progress(text) {
      if (interactive && !json) stderr.write(`\r\x1b[2K${text}`);
    },
    info(text) {
      if (!json) stderr.write(`${text}\n`);
    },
  };
}

/** "EXPERIMENT_STATUS_RUNNING" → "running". */
export function enumLabel(name: string | undefined, prefix: string): string {
  return (name ?? "").replace(prefix, "").toLowerCase();
}
