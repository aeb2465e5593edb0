// Progress of `poet generate`: a bar redrawn in place on a terminal, one plain line per function otherwise (CI logs).
import type { CliIO } from './io'

const WIDTH = 24

export class Progress {
  private done = 0
  private running = new Set<string>()

  constructor(
    private readonly total: number,
    private readonly io: CliIO,
  ) {}

  start(id: string): void {
    this.running.add(id)
    this.draw()
  }

  /** One function finished; `line` says how (generator, version, or the fallback). */
  finish(id: string, line: string): void {
    this.running.delete(id)
    this.done++
    if (this.io.tty && this.io.write) {
      this.clear()
      this.io.out(`  ${id}  ${line}`)
      this.draw()
    } else {
      this.io.out(`[${this.done}/${this.total}] ${id}  ${line}`)
    }
  }

  /** A warning printed without garbling the bar. */
  warn(message: string): void {
    this.clear()
    this.io.err(message)
    this.draw()
  }

  end(): void {
    this.clear()
  }

  private draw(): void {
    if (!this.io.tty || !this.io.write) return
    const filled = this.total ? Math.round((this.done / this.total) * WIDTH) : WIDTH
    const next = [...this.running][0]
    this.io.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${this.done}/${this.total}${next ? `  ${next}` : ''}`)
  }

  private clear(): void {
    if (this.io.tty && this.io.write) this.io.write('\r\x1b[K')
  }
}
