/** Where a command reads and writes: the process's streams, or a test's. */
export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export type OutputMode = "human" | "json" | "jsonl";

const CODES: Record<string, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
};

const STATUS_COLOUR: Record<string, string> = {
  failed: "red",
  completed: "green",
  running: "cyan",
  cancelled: "gray",
  waiting: "yellow",
  ready: "blue",
  paused: "magenta",
};

/**
 * Data to stdout, everything else (logs, prompts, progress) to stderr. Tables and colour
 * only when stdout is a terminal, and colour never with `NO_COLOR` set (https://no-color.org)
 * or `--no-color`; elsewhere a header line and tab-separated values.
 */
export class Output {
  readonly color: boolean;

  constructor(
    readonly io: Io,
    readonly mode: OutputMode,
    colorFlag = true,
  ) {
    const noColor = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== "";
    this.color = Boolean(io.stdout.isTTY) && !noColor && colorFlag && mode === "human";
  }

  get tty(): boolean {
    return Boolean(this.io.stdout.isTTY);
  }

  /** One value: `--json` prints it whole; otherwise `render` says how it reads. */
  value(value: unknown, render: () => string): void {
    if (this.mode === "human") this.io.stdout.write(ensureNewline(render()));
    else this.io.stdout.write(`${JSON.stringify(value, null, this.mode === "json" ? 2 : 0)}\n`);
  }

  /**
   * A list: `--jsonl` one object a line, `--json` the envelope whole, otherwise a table of
   * `columns` (label and cell) over `items`.
   */
  list<T>(envelope: unknown, items: T[], columns: Array<[string, (item: T) => string]>): void {
    if (this.mode === "jsonl") {
      for (const item of items) this.io.stdout.write(`${JSON.stringify(item)}\n`);
      return;
    }
    if (this.mode === "json") {
      this.io.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`);
      return;
    }
    this.table(
      columns.map(([label]) => label),
      items.map((item) => columns.map(([, cell]) => cell(item))),
    );
  }

  /** Rows under a header: aligned and coloured on a terminal, tab-separated elsewhere. */
  table(header: string[], rows: string[][]): void {
    if (!this.tty) {
      for (const row of [header, ...rows])
        this.io.stdout.write(`${row.map((cell) => cell.replace(/[\t\n]/g, " ")).join("\t")}\n`);
      return;
    }
    const widths = header.map((label, i) =>
      Math.min(60, Math.max(label.length, ...rows.map((row) => (row[i] ?? "").length))),
    );
    const line = (cells: string[], paint?: (cell: string, i: number) => string) =>
      `${cells
        .map((cell, i) => {
          const shown = truncate(cell, widths[i] as number);
          const padded = shown + " ".repeat(Math.max(0, (widths[i] as number) - shown.length));
          return paint ? paint(padded, i) : padded;
        })
        .join("  ")
        .trimEnd()}\n`;
    this.io.stdout.write(line(header, (cell) => this.paint("bold", cell)));
    for (const row of rows)
      this.io.stdout.write(
        line(row, (cell) => {
          const colour = STATUS_COLOUR[cell.trim()];
          return colour ? this.paint(colour, cell) : cell;
        }),
      );
  }

  /** Text in a colour, when colour is on. */
  paint(colour: string, text: string): string {
    const code = CODES[colour];
    return this.color && code ? `\u001b[${code[0]}m${text}\u001b[${code[1]}m` : text;
  }

  /** A line for the operator (stderr): what happened, what to do. */
  note(message: string): void {
    this.io.stderr.write(ensureNewline(message));
  }

  /** A progress bar on stderr (redrawn in place on a terminal; silent elsewhere). */
  progress(done: number, total: number | undefined, label: string): void {
    if (!this.io.stderr.isTTY) return;
    const width = 30;
    const ratio = total ? Math.min(1, done / total) : 0;
    const filled = Math.round(ratio * width);
    const bar = total ? `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ` : "";
    const percent = total ? `${Math.round(ratio * 100)}% ` : "";
    this.io.stderr.write(`\r${bar}${percent}${done}${total ? `/${total}` : ""} ${label}\u001b[K`);
  }

  /** Ends a progress bar's line. */
  progressDone(): void {
    if (this.io.stderr.isTTY) this.io.stderr.write("\n");
  }
}

function ensureNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}
