import type { BatchProgress } from '../workflows/batch';

const fmtTime = (s: number) => {
  if (!Number.isFinite(s)) return '--:--';
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    sec = Math.floor(s % 60);
  return `${h ? `${h}:` : ''}${String(m).padStart(h ? 2 : 1, '0')}:${String(sec).padStart(2, '0')}`;
};

/** One status line: a bar on a terminal, a line every few seconds in a log (CI, pipes). */
export class ProgressLine {
  private lastPrint = 0;
  private lastText = '';
  private readonly tty = !!process.stderr.isTTY;
  constructor(private readonly label: string) {}

  /** What the batch has spent so far (tokens, cost), shown after the counts when set. */
  spend = '';

  update(p: BatchProgress, now = Date.now()): void {
    const finished = p.done + p.failed;
    const elapsed = (now - p.startedAt) / 1000;
    const rate = elapsed > 0 ? finished / elapsed : 0;
    const eta = rate > 0 ? (p.total - finished) / rate : Infinity;
    const width = 28;
    const filled = p.total ? Math.round((finished / p.total) * width) : 0;
    const text =
      `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${finished}/${p.total} ` +
      `done ${p.done} · failed ${p.failed} · running ${p.running} · ${rate.toFixed(2)}/s · ETA ${fmtTime(eta)}${p.note ? ` · ${p.note}` : ''}${this.spend ? ` · ${this.spend}` : ''}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${text}`);
    else if ((now - this.lastPrint > 5000 || finished === p.total) && text !== this.lastText) {
      process.stderr.write(`${text}\n`);
      this.lastPrint = now;
      this.lastText = text;
    }
  }

  end(): void {
    if (this.tty) process.stderr.write('\n');
  }
}
