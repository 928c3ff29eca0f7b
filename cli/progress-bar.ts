/** A one-line progress bar on stderr; off a terminal it prints a plain line every few seconds instead. */
export class ProgressBar {
  private readonly started = Date.now();
  private lastPlainAt = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  update(done: number, total: number, extra = ''): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = done > 0 && done < total ? ` eta ${formatSeconds((elapsed / done) * (total - done))}` : '';
    const text = `${this.label} ${done}/${total} ${(fraction * 100).toFixed(0)}%${extra ? ` ${extra}` : ''} ${formatSeconds(elapsed)}${eta}`;
    if (this.tty) {
      const width = 30;
      const filled = Math.round(fraction * width);
      this.out.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
    } else if (Date.now() - this.lastPlainAt >= 5000 || done === total) {
      this.lastPlainAt = Date.now();
      this.out.write(`${text}\n`);
    }
  }

  finish(): void {
    if (this.tty) this.out.write('\n');
  }
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}
