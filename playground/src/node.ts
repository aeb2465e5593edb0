// The playground's Node entry: runs the scenario and prints each phase's outcome.
import { runScenario, type Step } from './scenario'

const color = process.stdout.isTTY ? (code: number, s: string) => `\x1b[${code}m${s}\x1b[0m` : (_: number, s: string) => s

function print(step: Step) {
  const mark = step.ok ? color(32, '✓') : color(31, '✗')
  console.log(`${mark} ${color(1, step.title)}`)
  for (const line of step.detail.split('\n')) console.log(`    ${line}`)
  const e = step.event
  if (e) {
    const phases =
      e.outcome === 'input_error'
        ? 'perceive ✗ → operate skipped → enforce skipped'
        : e.outcome === 'output_error'
          ? `perceive ✓ → operate ✓ → enforce ✗`
          : e.outcome === 'ok'
            ? `perceive ✓ → operate ✓ (${e.attempts} attempt${e.attempts === 1 ? '' : 's'}) → enforce ✓`
            : `perceive ✓ → operate ✗ ${e.outcome} after ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}`
    console.log(color(2, `    ${e.functionId} @ ${e.version}: ${phases}, ${e.duration.toFixed(1)} ms`))
  }
}

const steps = await runScenario(print)
const failed = steps.filter((s) => !s.ok)
console.log(failed.length ? color(31, `\n${failed.length} step(s) did not behave as expected`) : color(32, `\nAll ${steps.length} steps behaved as expected.`))
process.exitCode = failed.length ? 1 : 0
