// The trainer end to end on a real lock and a real SQLite store: triggers, candidates, promotion, rollback.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { onEvent, poet } from '../../src/runtime'
import type { ExecutionEvent } from '../../src/runtime/types'
import { readPolicy } from '../../src/train/candidate'
import { rollbackCommand, trainCommand } from '../../src/train/commands'
import { FeedbackStore } from '../../src/train/store'
import { applyTraining, metricLines, planTraining, untrained, type TrainerOptions } from '../../src/train/trainer'
import { importPhases } from '../helpers/phase-module'
import { execution, feedback, lockWith, tempDir } from './helpers'

const ID = 'src/api.ts#fetchQuote'
const HOUR = 3_600_000
// After the lock was written (its versions carry real creation times), so trained versions are newer.
const T = Math.ceil(Date.now() / HOUR) * HOUR + 24 * HOUR

function setup(optimizeFor = 'latency', perceive?: string) {
  const dir = tempDir()
  const { lock, version } = lockWith(join(dir, '.poet'), ID, { optimizeFor, ...(perceive ? { perceive } : {}) })
  const store = new FeedbackStore(join(dir, '.poet', 'feedback.db'))
  let now = T
  const options: TrainerOptions = { lockDir: join(dir, '.poet'), store, now: () => now }
  return { lock, store, version, options, setNow: (t: number) => (now = t) }
}

/** `n` calls of `version` spread over [from, to): a `fail` share of them time out after 3 attempts. */
function calls(version: string, n: number, from: number, to: number, fail: number, ms = 100): ExecutionEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const failed = i < Math.round(n * fail)
    return execution({
      functionId: ID,
      version,
      ts: from + Math.floor(((to - from) * i) / n),
      duration: failed ? 30_000 : ms * (0.5 + ((i * 7919) % 100) / 100),
      outcome: failed ? 'timeout' : 'ok',
      attempts: failed ? 3 : 1,
      ...(failed ? { error: 'PoetTimeoutError' } : {}),
    })
  })
}

/** Three days at 1 % timeouts, then an hour at 15 %: the error-rate trigger the candidate tests start from. */
function errorRateRise(store: FeedbackStore, version: string): void {
  store.insert(calls(version, 2000, T - 3 * 24 * HOUR, T - HOUR, 0.01))
  store.insert(calls(version, 300, T - HOUR, T, 0.15))
}

describe('trainer', () => {
  it('turns a rising error rate into a candidate with learned parameters, served to a share, without moving current', () => {
    const { lock, store, version, options } = setup()
    errorRateRise(store, version)
    const [plan] = planTraining(options)
    expect(plan).toMatchObject({ functionId: ID, action: 'candidate', current: version })
    // 8 % of attempts failed: three attempts already leave < 0.1 % failing, so only the timeout is learned.
    expect(plan!.reason).toBe('error rate up: 1.0 % → 15.2 % (P = 1.000) → timeout 30000 → 300 ms (p99 of 2235 successful calls 148 ms × 2)')
    expect(applyTraining([plan!], options)).toHaveLength(1)
    const entry = lock.read().functions[ID]!
    expect(entry.current).toBe(version)
    expect(entry.candidate).toMatchObject({ version: plan!.candidate, share: 0.2, metric: 'ok rate', since: new Date(T).toISOString() })
    expect(entry.versions[plan!.candidate!]).toMatchObject({ inputHash: 'input-hash-1', generator: 'builtin', reason: `train: ${plan!.reason}`, origin: 'train' })
    const file = join(options.lockDir, entry.versions[plan!.candidate!]!.file)
    expect(existsSync(file)).toBe(true)
    expect(readPolicy(readFileSync(file, 'utf8'))).toMatchObject({ timeout: 300, attempts: 3 })
    expect(store.decisions(ID)).toMatchObject([{ action: 'candidate', from: version, to: plan!.candidate }])
    expect(planTraining(options)[0]).toMatchObject({ action: 'wait', reason: expect.stringMatching(/200 observations per arm before promotion: current needs 200 more, the candidate 200$/) })
  })

  it("gives a builtin fallback's candidate the compiler its base records, so a build does not take it for an older compiler's", () => {
    const { lock, store, version, options } = setup()
    // A fallback under an LLM generator: the LLM's model and input hash, and the builtin compiler that wrote it.
    lock.update((l) => Object.assign(l.functions[ID]!.versions[version]!, { model: 'm', compiler: 'poet-builtin-test', reason: 'fallback: refused' }))
    errorRateRise(store, version)
    const [plan] = planTraining(options)
    applyTraining([plan!], options)
    expect(lock.read().functions[ID]!.versions[plan!.candidate!]).toMatchObject({ generator: 'builtin', model: 'm', compiler: 'poet-builtin-test', inputHash: 'input-hash-1' })
  })

  it('learns attempts but no timeout for a synchronous function whose errors rise: the runtime never times out a sync call', () => {
    const { store, version, options } = setup()
    // Thrown errors, not timeouts: nothing says the function ever returned a promise, and its module does not say async.
    const failing = (n: number, from: number, to: number, fail: number) =>
      calls(version, n, from, to, fail).map((e): ExecutionEvent => (e.outcome === 'timeout' ? { ...e, outcome: 'error', error: 'RangeError', duration: 40 } : e))
    store.insert(failing(2000, T - 3 * 24 * HOUR, T - HOUR, 0.01))
    store.insert(failing(300, T - HOUR, T, 0.3))
    const [plan] = planTraining(options)
    expect(plan).toMatchObject({ action: 'candidate', current: version })
    expect(plan!.reason).toBe('error rate up: 1.0 % → 30.1 % (P = 1.000) → attempts 3 → 4 (13.1 % of 2520 attempts failed)')
    expect(readPolicy(plan!.create!.source)).toMatchObject({ timeout: 30_000, attempts: 4 })
  })

  it('promotes a better candidate and keeps every version, so `poet rollback` can move back', async () => {
    const { lock, store, version, options, setNow } = setup()
    errorRateRise(store, version)
    const [plan] = planTraining(options)
    applyTraining([plan!], options)
    store.insert(calls(version, 1200, T, T + HOUR, 0.15))
    store.insert(calls(plan!.candidate!, 300, T, T + HOUR, 0.01))
    setNow(T + HOUR)
    const [judged] = planTraining(options)
    expect(judged).toMatchObject({ action: 'promote', current: version, candidate: plan!.candidate })
    expect(judged!.reason).toMatch(/^better on ok rate: 0\.8\d+ \(n=1200\) → 0\.98\d+ \(n=300\), P\(better\) = 1\.000 ≥ 0\.99$/)
    applyTraining([judged!], options)
    const entry = lock.read().functions[ID]!
    expect(entry.current).toBe(plan!.candidate)
    expect(entry.candidate).toBeUndefined()
    expect(Object.keys(entry.versions).sort()).toEqual([version, plan!.candidate].sort())
    expect(store.decisions(ID).map((d) => d.action)).toEqual(['candidate', 'promote'])
    const out: string[] = []
    expect(await rollbackCommand([ID, '--lock-dir', options.lockDir], { out: (l) => out.push(l), err: (l) => out.push(l) })).toBe(0)
    expect(out).toEqual([`${ID}: current ${plan!.candidate} → ${version}`])
    expect(lock.read().functions[ID]!.current).toBe(version)
  })

  it('rolls back a worse candidate and does not offer the same learned version again', () => {
    const { lock, store, version, options, setNow } = setup()
    errorRateRise(store, version)
    const [plan] = planTraining(options)
    applyTraining([plan!], options)
    store.insert(calls(version, 600, T, T + HOUR, 0.1))
    store.insert(calls(plan!.candidate!, 150, T, T + HOUR, 0.3))
    setNow(T + HOUR)
    const [judged] = planTraining(options)
    expect(judged).toMatchObject({ action: 'rollback', reason: expect.stringMatching(/^worse on ok rate: .*P\(worse\) = 1\.000 ≥ 0\.975$/) })
    applyTraining([judged!], options)
    const entry = lock.read().functions[ID]!
    expect(entry.current).toBe(version)
    expect(entry.candidate).toBeUndefined()
    expect(entry.versions[plan!.candidate!]).toBeDefined()
    // Same evidence an hour later: the trigger fires again, but that version already lost its test.
    setNow(T)
    expect(planTraining(options)[0]).toMatchObject({ action: 'none', reason: expect.stringMatching(/already tested and rolled back$/) })
  })

  it('after poet rollback stops a learned timeout, proposes no other timeout until the week and an hour it reads is new evidence', async () => {
    const { lock, store, version, options, setNow } = setup()
    errorRateRise(store, version)
    const [plan] = planTraining(options)
    applyTraining([plan!], options)
    expect(await rollbackCommand([ID, '--lock-dir', options.lockDir], { out: () => {}, err: () => {} })).toBe(0)
    const [stopped] = store.decisions(ID).filter((d) => d.action === 'rollback')
    // A few slower calls since: the learned timeout moves (another version), but it is the change the user just undid.
    store.insert(calls(version, 100, T - 30 * 60_000, T, 0.15, 300))
    const [again] = planTraining(options)
    const until = new Date(Math.ceil((stopped!.ts + 7 * 24 * HOUR + HOUR) / 60_000) * 60_000).toISOString().slice(0, 16).replace('T', ' ')
    expect(again).toMatchObject({ action: 'none', current: version })
    expect(again!.reason).toMatch(/^error rate up: .*; timeout waits: /)
    expect(again!.reason).toContain(`(candidate stopped by poet rollback); no new timeout before ${until} UTC, when the calls Train reads (the last 60 min and the 7 days before) were all made since`)
    expect(applyTraining([again!], options)).toEqual([])
    expect(lock.read().functions[ID]!.candidate).toBeUndefined()
    // Past the cool-down, on calls made after the rollback only, the same trigger may try a timeout again.
    const later = stopped!.ts + 8 * 24 * HOUR
    store.insert(calls(version, 2000, later - 3 * 24 * HOUR, later - HOUR, 0.01))
    store.insert(calls(version, 300, later - HOUR, later, 0.15, 200))
    setNow(later)
    expect(planTraining(options)[0]).toMatchObject({ action: 'candidate', reason: expect.stringMatching(/^error rate up: .* → timeout 30000 → \d+ ms/) })
  })

  it('after a candidate is retired as no better, proposes no other value of what it changed until the week and an hour it reads is new evidence', () => {
    const { lock, store, version, options, setNow } = setup()
    errorRateRise(store, version)
    const [plan] = planTraining(options)
    applyTraining([plan!], options)
    // A tie: both versions fail as often, so the test ends with no difference once the candidate has enough calls.
    store.insert(calls(version, 1200, T, T + HOUR, 0.05))
    store.insert(calls(plan!.candidate!, 300, T, T + HOUR, 0.05))
    setNow(T + HOUR)
    const retiring = { ...options, rule: { maxCandidate: 300 } }
    const [judged] = planTraining(retiring)
    expect(judged).toMatchObject({ action: 'retire', candidate: plan!.candidate })
    expect(applyTraining([judged!], retiring)).toHaveLength(1)
    const [retired] = store.decisions(ID).filter((d) => d.action === 'retire')
    // Slower calls since: the learned timeout moves (another version), but it is the change that just made no difference.
    store.insert(calls(version, 300, T + HOUR - 30 * 60_000, T + HOUR, 0.2, 300))
    setNow(T + HOUR + 60_000)
    const [again] = planTraining(options)
    const until = retired!.ts + 7 * 24 * HOUR + HOUR
    expect(again).toMatchObject({ action: 'none', current: version, held: { since: retired!.ts, until } })
    expect(again!.reason).toMatch(/; timeout waits: a change of it was tested and retired on .* \(no difference beyond the margin on ok rate after 300 candidate observations: .*\); no new timeout before /)
    expect(applyTraining([again!], options)).toEqual([])
    expect(store.decisions(ID).map((d) => d.action)).toEqual(['candidate', 'retire', 'hold'])
    expect(lock.read().functions[ID]!.candidate).toBeUndefined()

    // Asked to, Train proposes it now, and the candidate's reason says which cool-down it did not wait out.
    const [now] = planTraining({ ...options, ignoreCooldown: true })
    expect(now).toMatchObject({ action: 'candidate', current: version, reason: expect.stringMatching(/ → timeout 30000 → \d+ ms .*; cool-down ignored on request: timeout waits: a change of it was tested and retired on /) })
    expect(now!.candidate).not.toBe(plan!.candidate)
  })

  it('poet train says until when a cool-down holds a proposal, and --ignore-cooldown proposes it now', async () => {
    const dir = tempDir()
    const lockDir = join(dir, '.poet')
    const { lock, version } = lockWith(lockDir, ID, { optimizeFor: 'latency' })
    const store = new FeedbackStore(join(lockDir, 'feedback.db'))
    // The command reads the clock: the calls are the last days', and the test retired just now.
    const now = Date.now()
    store.insert(calls(version, 2000, now - 3 * 24 * HOUR, now - HOUR, 0.01))
    store.insert(calls(version, 300, now - HOUR, now, 0.15))
    const options: TrainerOptions = { lockDir, store }
    const [plan] = planTraining(options)
    applyTraining([plan!], options)
    applyTraining([{ functionId: ID, action: 'retire', current: version, candidate: plan!.candidate, reason: 'no difference beyond the margin' }], options)
    const retired = store.decisions(ID).find((d) => d.action === 'retire')!
    store.insert(calls(version, 100, now - 30 * 60_000, now, 0.2, 300))
    store.close()
    const until = new Date(Math.ceil((retired.ts + 7 * 24 * HOUR + HOUR) / 60_000) * 60_000).toISOString().slice(0, 16).replace('T', ' ')
    const run = async (...argv: string[]) => {
      const out: string[] = []
      const code = await trainCommand([...argv, '--lock-dir', lockDir], { out: (l) => out.push(l), err: (l) => out.push(l) })
      return { code, out: out.join('\n') }
    }
    const held = await run()
    expect(held.code).toBe(0)
    expect(held.out).toContain(`timeout waits: a change of it was tested and retired on `)
    expect(held.out).toContain(`(${ID}: its proposal waits out a cool-down after a rollback or a retired test, until ${until} UTC; \`poet train --ignore-cooldown\` proposes now)`)
    expect(held.out).toContain('Nothing to apply.')

    const forced = await run('--apply', '--ignore-cooldown')
    expect(forced.code, forced.out).toBe(0)
    expect(forced.out).toContain('cool-down ignored on request: timeout waits')
    expect(forced.out).not.toContain('its proposal waits out a cool-down')
    const entry = lock.read().functions[ID]!
    expect(entry.candidate?.version).toBeDefined()
    expect(entry.candidate!.version).not.toBe(plan!.candidate)
  })

  it('names the parameters one rollback holds back together, once', async () => {
    const dir = tempDir()
    const { version } = lockWith(join(dir, '.poet'), ID, { optimizeFor: 'latency', policy: { attempts: 1 } })
    const store = new FeedbackStore(join(dir, '.poet', 'feedback.db'))
    const options: TrainerOptions = { lockDir: join(dir, '.poet'), store, now: () => T }
    errorRateRise(store, version)
    const [plan] = planTraining(options)
    expect(plan!.reason).toMatch(/→ timeout 30000 → \d+ ms .*; attempts 1 → \d/)
    applyTraining([plan!], options)
    expect(await rollbackCommand([ID, '--lock-dir', options.lockDir], { out: () => {}, err: () => {} })).toBe(0)
    store.insert(calls(version, 100, T - 30 * 60_000, T, 0.15, 300))
    const [again] = planTraining(options)
    expect(again).toMatchObject({ action: 'none', reason: expect.stringMatching(/; attempts and timeout wait: a change of them was rolled back on .* \(candidate stopped by poet rollback\); no new attempts and timeout before /) })
    expect(again!.reason.match(/rolled back on/g)).toHaveLength(1)
    store.close()
  })

  it('for a latency function, does not raise attempts again and again after the latency guard rolled a raise back (runtime events)', async () => {
    const dir = tempDir()
    const lockDir = join(dir, '.poet')
    // Returns a promise without declaring it: no timeout to learn, so the error-rate trigger learns attempts alone.
    const { lock, version } = lockWith(lockDir, ID, { optimizeFor: 'latency', policy: { attempts: 1, backoff: { initial: 150, max: 150, factor: 1, jitter: false } } })
    const store = new FeedbackStore(join(lockDir, 'feedback.db'))
    const options: TrainerOptions = { lockDir, store, now: () => T }
    const events: ExecutionEvent[] = []
    const off = onEvent((e) => void (e.kind === 'execution' && events.push(e)))
    // A call fails on its first attempt when its number is a multiple of `every`; a retry succeeds, after the backoff.
    let every = 100
    const failedOnce = new Set<number>()
    const body = async (x: number[]) => {
      await new Promise((done) => setTimeout(done, 2))
      if (x[0]! % every === 0 && !failedOnce.has(x[0]!)) {
        failedOnce.add(x[0]!)
        throw new Error('upstream hiccup')
      }
      return x.length
    }
    let next = 1
    const run = async (source: string, n: number, from: number, to: number) => {
      const fn = poet({ optimizeFor: 'latency' }, await importPhases(source))(body)
      events.length = 0
      // Ten at a time: a call's duration then holds little of the others' turns on a busy machine, and the versions'
      // batches (of different sizes) compare by the backoff, not by how many calls waited together.
      for (let i = 0; i < n; i += 10) await Promise.allSettled(Array.from({ length: Math.min(10, n - i) }, () => fn([next++])))
      store.insert(events.map((e, i) => ({ ...e, ts: from + Math.floor(((to - from) * i) / events.length) })))
    }
    try {
      await run(lock.source(ID, version)!, 300, T - 3 * HOUR, T - HOUR)
      every = 5
      await run(lock.source(ID, version)!, 200, T - 30 * 60_000, T)
      const [raise] = planTraining(options)
      expect(raise).toMatchObject({ action: 'candidate', reason: expect.stringMatching(/^error rate up: .* → attempts 1 → \d \(/) })
      applyTraining([raise!], options)
      // The A/B test: the raise turns failures into successes that waited out the backoff.
      await run(lock.source(ID, version)!, 400, T + 1000, T + HOUR)
      await run(raise!.create!.source, 150, T + 1000, T + HOUR)
      const judged = planTraining({ ...options, now: () => T + HOUR })
      expect(judged[0]).toMatchObject({ action: 'rollback', reason: expect.stringMatching(/^worse on latency/) })
      applyTraining(judged, { ...options, now: () => T + HOUR })
      const [after] = planTraining({ ...options, now: () => T + HOUR + 60_000 })
      expect(after).toMatchObject({ action: 'none', reason: expect.stringMatching(/^error rate up: .*; attempts waits: /) })
      expect(after!.reason).toContain(`(worse on latency`)
      // --apply (and the dev server) records the hold once per rollback, for the dashboard's decisions: no candidate.
      expect(applyTraining([after!], { ...options, now: () => T + HOUR + 60_000 })).toEqual([])
      expect(applyTraining(planTraining({ ...options, now: () => T + HOUR + 120_000 }), { ...options, now: () => T + HOUR + 120_000 })).toEqual([])
      expect(store.decisions(ID).map((d) => d.action)).toEqual(['candidate', 'rollback', 'hold'])
      expect(store.decisions(ID).at(-1)).toMatchObject({ from: version, reason: after!.reason })
      expect(lock.read().functions[ID]!.candidate).toBeUndefined()
    } finally {
      off()
      store.close()
    }
  })

  function rateRejectedGood(store: FeedbackStore, version: string): void {
    const rejected = Array.from({ length: 6 }, () => execution({ functionId: ID, version, ts: T - 1000, outcome: 'input_error', attempts: 0, duration: 1, issues: [{ path: 'args[0].amount' }] }))
    store.insert(rejected)
    store.insert(rejected.map((e) => feedback({ functionId: ID, version, executionId: e.executionId, ts: T - 500, score: undefined, label: 'good' })))
  }

  it('tries repair when users rate rejected inputs as good, in a module whose checks repair under ctx.repair', () => {
    const repairing = 'let issues\nconst a = args[0]\nif (ctx.repair && typeof a.amount === "string") { a.amount = +a.amount; (ctx.repairs ??= []).push({ path: "args[0].amount", action: "numeric string → number" }) }\nif (typeof a.amount !== "number") issues = [{ path: "args[0].amount", expected: "number", received: typeof a.amount }]\nreturn issues'
    const { store, version, options } = setup('accuracy', repairing)
    rateRejectedGood(store, version)
    const [plan] = planTraining(options)
    expect(plan).toMatchObject({ action: 'candidate', reason: '6 rejected inputs rated good → repair off → on (6 rejected inputs rated good: args[0].amount ×6)' })
    expect(readPolicy(plan!.create!.source)?.repair).toBe(true)
  })

  it('puts no repair under test in a module without repair code (builtin, generated with repair off): it would reject the same inputs; says how to get one that repairs', () => {
    const { store, version, options } = setup('accuracy')
    rateRejectedGood(store, version)
    const [plan] = planTraining(options)
    expect(plan).toMatchObject({ action: 'none', current: version })
    expect(plan!.reason).toBe(
      `6 rejected inputs rated good; turning repair on in ${version} would change nothing, as its phase module has no repair code: set \`repair: true\` in the function's poet() options to generate the repairs its checks can make (an LLM generator can propose new phases from this evidence)`,
    )
    expect(applyTraining([plan!], options)).toEqual([])
  })

  it('learns attempts from the events the runtime sends, in which a rejected input ran no attempt', async () => {
    const dir = tempDir()
    const { lock, version } = lockWith(join(dir, '.poet'), ID, { optimizeFor: 'latency', policy: { attempts: 1 } })
    const store = new FeedbackStore(join(dir, '.poet', 'feedback.db'))
    const phases = await importPhases(lock.source(ID, version)!)
    const events: ExecutionEvent[] = []
    const off = onEvent((e) => void (e.kind === 'execution' && events.push(e)))
    const fetchQuote = poet({ optimizeFor: 'latency' }, phases)((xs: number[]) => {
      if (xs[0]! < 0) throw new Error('upstream failed')
      return xs.length
    })
    const run = (n: number, failing: number, rejected: number) => {
      events.length = 0
      for (let i = 0; i < n; i++) {
        try {
          fetchQuote((i < rejected ? 'not a list' : [i < rejected + failing ? -1 : 1]) as number[])
        } catch {}
      }
      return [...events]
    }
    try {
      const at = (from: number) => (e: ExecutionEvent, i: number) => ({ ...e, ts: from + i * 1000 })
      store.insert(run(300, 3, 0).map(at(T - 3 * HOUR)))
      store.insert(run(200, 40, 60).map(at(T - 30 * 60_000)))
    } finally {
      off()
    }
    expect(events.filter((e) => e.outcome === 'input_error').every((e) => e.attempts === 0)).toBe(true)
    const [plan] = planTraining({ lockDir: join(dir, '.poet'), store, now: () => T })
    // 43 of the 440 attempts that ran failed: three attempts leave < 0.1 % of calls failing.
    expect(plan).toMatchObject({ action: 'candidate', reason: expect.stringMatching(/^error rate up: .* → attempts 1 → 3 \(9\.8 % of 440 attempts failed\)$/) })
    store.close()
  })

  it('leaves functions without optimizeFor alone and says why nothing happens', () => {
    const { store, version, options } = setup('')
    expect(planTraining(options)).toEqual([])
    expect(untrained(options)).toEqual([ID])
    store.insert(calls(version, 500, T - 2 * HOUR, T, 0))
    expect(planTraining({ ...options, optimizeFor: { [ID]: 'latency' } })).toEqual([
      { functionId: ID, action: 'none', current: version, reason: 'no trigger (last 60 min: 250 calls, 0.0 % failed)' },
    ])
  })

  it('says "1 call", not "1 calls", when one call came in the last hour', () => {
    const { store, version, options } = setup()
    store.insert(calls(version, 1, T - 30 * 60_000, T, 0))
    expect(planTraining(options)).toEqual([{ functionId: ID, action: 'none', current: version, reason: 'no trigger (last 60 min: 1 call, 0.0 % failed)' }])
  })

  it('does not apply a plan made stale by another process moving the pointer', () => {
    const { lock, store, version, options } = setup()
    errorRateRise(store, version)
    const plans = planTraining(options)
    lock.update((l) => void (l.functions[ID]!.current = 'someoneelse'))
    expect(applyTraining(plans, options)).toEqual([])
    expect(lock.read().functions[ID]!.candidate).toBeUndefined()
    expect(store.decisions(ID)).toEqual([])
  })

  it('notices its optimizeFor metric falling below baseline, and says when the builtin generator has nothing to learn', () => {
    const { store, version, options } = setup('accuracy')
    const before = calls(version, 400, T - 2 * 24 * HOUR, T - HOUR, 0)
    const after = calls(version, 200, T - HOUR, T, 0)
    store.insert([...before, ...after])
    store.insert([
      ...before.map((e, i) => feedback({ functionId: ID, version, executionId: e.executionId, ts: e.ts, score: i % 10 < 9 ? 1 : 0 })),
      ...after.map((e, i) => feedback({ functionId: ID, version, executionId: e.executionId, ts: e.ts, score: i % 10 < 6 ? 1 : 0 })),
    ])
    const [plan] = planTraining(options)
    expect(plan!.action).toBe('none')
    expect(plan!.reason).toBe("feedback score below its baseline: 0.898 → 0.599 (P = 1.000); the builtin generator has no parameter to change for this (an LLM generator can propose new phases from this evidence)")
  })

  it('loses the candidate when a rebuild makes a new current (the candidate was derived from the old one)', () => {
    const { lock, store, version, options } = setup()
    errorRateRise(store, version)
    applyTraining(planTraining(options), options)
    expect(lock.read().functions[ID]!.candidate).toBeDefined()
    lockWith(options.lockDir, ID, { optimizeFor: 'latency', policy: { attempts: 2 } })
    const entry = lock.read().functions[ID]!
    expect(entry.candidate).toBeUndefined()
    expect(entry.optimizeFor).toBe('latency')
    expect(Object.keys(entry.versions)).toHaveLength(3)
  })
})

describe("the LLM prompt's numbers", () => {
  it('say "1 day", "1 call" and "1 rating" for one, as a person would write them', () => {
    const store = new FeedbackStore(join(tempDir(), 'f.db'))
    const t = 1_700_000_000_000
    const run = execution({ ts: t })
    store.insert([run])
    store.insert([feedback({ executionId: run.executionId, ts: t, score: 1, metrics: { cost: 2 } })])
    const [m] = store.metrics('src/drift.ts#detectDrift', { since: t, until: t + 1000 })
    const lines = metricLines(m!, 24 * 3_600_000, 0).join('\n')
    store.close()
    expect(lines).toContain('over the last 1 day: 1 call, 1.00 attempts per call that ran')
    expect(lines).toContain('feedback score: mean 1.000 over 1 rating\n')
    expect(lines).toContain('feedback metric cost: mean 2.000 over 1 rating')
  })
})
