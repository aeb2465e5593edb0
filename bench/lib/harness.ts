// Shared benchmark plumbing: smoke/full budgets, tinybench runs reduced to median and spread, and the rows handed to bench/run.mjs.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Bench } from 'tinybench'

/** `--smoke`: every benchmark runs briefly, only to prove it still runs; its numbers mean nothing. */
export const SMOKE = process.argv.includes('--smoke')

/** The worktree root (bench files are bundled to bench/.tmp/*.mjs before they run). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const TMP = join(ROOT, 'bench/.tmp')
mkdirSync(TMP, { recursive: true })

/** One line of the results table. */
export interface Row {
  /** What is measured. */
  what: string
  /** What it is compared with, measured in the same run. */
  baseline: string
  /** Our number: median and spread. */
  measured: string
  /** The baseline's number, when there is one. */
  against?: string
  /** The headline: ratio or difference against the baseline. */
  ratio: string
  target: string
  /** `pass`/`miss` against the target, `report` where the target is to report. */
  verdict: 'pass' | 'miss' | 'report'
  /** Optional note printed under the table (what dominates, how it was measured). */
  note?: string
}

/** Hands this benchmark's rows to the runner: one marked line on stdout, everything else is progress. */
export function emit(rows: Row[]): void {
  process.stdout.write(`\n@@rows ${JSON.stringify(rows)}\n`)
}

export function progress(message: string): void {
  process.stderr.write(`  ${message}\n`)
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Spread as the median absolute deviation relative to the median (robust to the odd descheduled sample). */
export function spread(xs: number[]): number {
  const m = median(xs)
  return m === 0 ? 0 : median(xs.map((x) => Math.abs(x - m))) / m
}

export interface Measured {
  /** Median, in the unit the caller asked for. */
  median: number
  /** Relative spread (MAD / median). */
  spread: number
}

export function measured(xs: number[]): Measured {
  return { median: median(xs), spread: spread(xs) }
}

/**
 * Runs micro benchmarks side by side: `rounds` tinybench runs, each over every task in a rotated order so that
 * drift of a shared machine hits every contender alike. Each task runs `batch` operations per sample.
 * Returns nanoseconds per operation: the median of the per-round medians, and their spread.
 */
export async function micro(tasks: Record<string, () => unknown>, batch: number): Promise<Record<string, Measured>> {
  const names = Object.keys(tasks)
  const rounds = SMOKE ? 1 : 5
  const perRound: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]))
  for (let r = 0; r < rounds; r++) {
    const bench = new Bench({ time: SMOKE ? 20 : 400, warmup: true, warmupTime: SMOKE ? 5 : 100 })
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length]!
      bench.add(name, tasks[name]!)
    }
    await bench.run()
    for (const task of bench.tasks) {
      const result = task.result as { latency?: { p50: number }; error?: unknown } | undefined
      if (!result?.latency) throw new Error(`bench: task "${task.name}" produced no result${result?.error ? `: ${String(result.error)}` : ''}`)
      perRound[task.name]!.push((result.latency.p50 * 1e6) / batch)
    }
  }
  return Object.fromEntries(names.map((n) => [n, measured(perRound[n]!)]))
}

/** `123 ns ±2%`, `4.56 µs ±1%`, `789 ms ±3%`: a time in nanoseconds with its spread. */
export function time(ns: number, rel?: number): string {
  const s = ns < 1e3 ? `${ns.toFixed(0)} ns` : ns < 1e6 ? `${(ns / 1e3).toFixed(2)} µs` : ns < 1e9 ? `${(ns / 1e6).toFixed(1)} ms` : `${(ns / 1e9).toFixed(2)} s`
  return rel === undefined ? s : `${s} ±${(rel * 100).toFixed(0)}%`
}

export function times(ratio: number): string {
  return `${ratio.toFixed(2)}×`
}

export function verdict(ok: boolean): Row['verdict'] {
  return ok ? 'pass' : 'miss'
}
