// consoleSink: one readable line per event, for development and scripts.
import type { Sink } from '../sink'
import type { PoetEvent } from '../types'

export interface ConsoleSinkOptions {
  /** Where lines go. @default console.log for successes and feedback, console.warn for failures */
  log?: (line: string, event: PoetEvent) => void
}

export function consoleSink(options: ConsoleSinkOptions = {}): Sink {
  const log = options.log ?? ((line, e) => (e.kind === 'execution' && e.outcome !== 'ok' ? console.warn(line) : console.log(line)))
  return (events) => {
    for (const e of events) {
      // A custom log that throws on one event loses that line, not the rest of the batch.
      try {
        log(formatEvent(e), e)
      } catch {}
    }
  }
}

/** `poet ✓ src/a.ts#f@v1 ok 1.2 ms, 1 attempt` … */
export function formatEvent(e: PoetEvent): string {
  const head = `${e.functionId}@${e.version}`
  if (e.kind === 'feedback') {
    const parts = [e.score !== undefined && `score ${e.score}`, e.label && `label ${e.label}`, e.metrics && Object.entries(e.metrics).map(([k, v]) => `${k} ${v}`).join(', ')]
    return `poet ★ ${head} feedback ${parts.filter(Boolean).join(', ')} (${e.executionId})`
  }
  let line = `poet ${e.outcome === 'ok' ? '✓' : '✗'} ${head} ${e.outcome} ${e.duration.toFixed(1)} ms, ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}`
  if (e.error && e.outcome === 'error') line += ` (${e.error})`
  if (e.issues) line += `: ${e.issues.map((i) => (i.rule ? `${i.path} [${i.rule}]` : i.path)).join(', ')}`
  if (e.issues && e.issueCount) line += ` …and ${e.issueCount - e.issues.length} more`
  if (e.repairs) line += `; repaired ${e.repairs.map((r) => `${r.path} (${r.action})`).join(', ')}`
  return line
}
