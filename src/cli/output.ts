// How commands print: aligned tables for people, JSON for scripts, and a progress line on
// stderr only when stderr is a terminal (so pipes and logs stay clean).

export type Cell = string | number | bigint | boolean | null | undefined;

function text(c: Cell): string {
  if (c === null || c === undefined) return '-';
  return String(c);
}

/** Plain aligned columns, like kubectl's: no borders, easy to grep and to cut. */
export function formatTable(headers: string[], rows: Cell[][]): string {
  const cells = rows.map((r) => r.map(text));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

export function printTable(headers: string[], rows: Cell[][]): void {
  process.stdout.write(formatTable(headers, rows));
}

/** JSON with bigints as strings when they exceed 2^53, as numbers otherwise. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_k, v) => {
      if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
      if (Buffer.isBuffer(v)) return v.toString('base64');
      if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
        return Buffer.from((v as { data: number[] }).data).toString('base64');
      }
      return v;
    },
    indent,
  );
}

export function printJson(value: unknown): void {
  process.stdout.write(toJson(value, 2) + '\n');
}

/** A one-line progress indicator on a TTY stderr; silent otherwise. */
export class Progress {
  private last = 0;
  private readonly enabled: boolean;
  private shown = false;

  constructor(
    private readonly label: string,
    private readonly total: number | null,
    stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = stream.isTTY === true && process.env.STREAMHOUSE_NO_PROGRESS === undefined;
    this.stream = stream;
  }

  private readonly stream: NodeJS.WriteStream;

  update(done: number, extra = ''): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && (this.total === null || done < this.total)) return;
    this.last = now;
    let bar = '';
    if (this.total !== null && this.total > 0) {
      const frac = Math.min(1, done / this.total);
      const width = 30;
      const filled = Math.round(frac * width);
      bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% `;
    }
    this.stream.write(`\r${this.label} ${bar}${done}${this.total !== null ? `/${this.total}` : ''}${extra ? ` ${extra}` : ''}\x1b[K`);
    this.shown = true;
  }

  done(): void {
    if (this.enabled && this.shown) this.stream.write('\r\x1b[K');
  }
}
