// The trainer: for each function with optimizeFor, reads metrics per version, then plans and applies candidate, promote, rollback.
import { LockStore, type LockEntry, type LockVersion, type NewVersion } from '../generators/lock'
import { jsonLine, NEVER_IN_EVENTS_LINE } from '../generators/render'
import type { TrainingEvidence } from '../generators/llm/prompt'
import { declaresAsync, learnPolicy, readPolicy, withPolicy, type Learnable } from './candidate'
import { learnThresholds, readLearned, THRESHOLD_RULES } from './thresholds'
import { compare, decide, DEFAULT_RULE, MARGINS, type Arm, type Comparison, type MetricSpec, type RuleOptions } from './rule'
import { eventSources } from './former'
import { noMetrics, type Decision, type EventSource, type FeedbackStore, type VersionMetrics } from './store'

const HOUR = 3_600_000

export interface TrainerOptions {
  lockDir: string
  store: FeedbackStore
  /** optimizeFor per function id, for lock entries that do not carry it (or to override it). */
  optimizeFor?: Record<string, string>
  /** Traffic share a new candidate serves. @default 0.2 */
  share?: number
  /** The recent window triggers look at. @default 1 hour */
  recentMs?: number
  /** The window before it that serves as the baseline. @default 7 days */
  baselineMs?: number
  /** Rejected inputs rated good before repair is tried. @default 5 */
  goodRejections?: number
  rule?: Partial<RuleOptions>
  /** Practical margins (see MARGINS). */
  margins?: Partial<typeof MARGINS>
  /** @default Date.now */
  now?: () => number
  /**
   * Asks the LLM generator for candidates of functions whose phases it wrote (`poet train` builds one from the
   * project's config). Without it, those functions get builtin candidates (learned policy) like any other.
   */
  llm?: LlmProposer
  /**
   * Proposes what a rollback's or a retired test's cool-down holds back (`poet train --ignore-cooldown`): for a user
   * who knows the evidence changed meanwhile (a fix deployed, an upstream back to normal). A version already tested
   * is still never offered again.
   */
  ignoreCooldown?: boolean
}

/** What the trainer asks of an LLM generator: new phases for one function, with the evidence in the prompt. */
export interface LlmProposer {
  propose(request: { functionId: string; entry: LockEntry; evidence: TrainingEvidence; feedback: string[] }): Promise<Proposal>
}

/** A verified candidate module, or why there is none (the verify gate's reasons, a transport failure …). */
export type Proposal =
  | { ok: true; version: string; source: string; generator: string; model?: string; usage?: LockVersion['usage']; variants?: NewVersion['variants'] }
  | { ok: false; reason: string }

/** `rejected`: the LLM generator was asked for a candidate and gave none that passed the verify gate. */
export type Action = 'candidate' | 'promote' | 'rollback' | 'retire' | 'rejected' | 'wait' | 'none'

export interface Plan {
  functionId: string
  action: Action
  current: string
  /** The candidate under test, or the one `candidate` creates. */
  candidate?: string
  reason: string
  /** What `candidate` writes: the new module and the metric its test is decided on. */
  create?: { source: string; metric: string; share: number; inputHash: string; generator: string; model?: string; usage?: LockVersion['usage']; variants?: NewVersion['variants']; compiler?: string }
  /** Why the LLM generator gave no candidate (`rejected` only): the verify gate's reasons, a transport failure … */
  rejection?: string
  /**
   * `none` because every change the triggers point at waits out the cool-down of a rollback or a retired test: when
   * the latest such decision happened, and when the last cool-down ends. `--apply` records the hold once per
   * decision, so the dashboard's decisions say until when.
   */
  held?: { since: number; until: number }
  /** A candidate still to be asked of the LLM generator (`proposeCandidates`), with the evidence for its prompt. */
  ask?: { generator: string; metric: string; evidence: TrainingEvidence; feedback: string[] }
}

export const OK_RATE = 'ok rate'

/** Reads the lock and the store and decides, per function with optimizeFor, what should happen. Writes nothing. */
export function planTraining(o: TrainerOptions): Plan[] {
  const lock = new LockStore(o.lockDir).read()
  const plans: Plan[] = []
  for (const id of Object.keys(lock.functions).sort()) {
    const entry = lock.functions[id]!
    const optimizeFor = o.optimizeFor?.[id] ?? entry.optimizeFor
    if (!optimizeFor) continue
    // A renamed or moved function's evidence includes what its clients sent under its former ids.
    const events = eventSources(lock, id)
    plans.push(entry.candidate ? judgeCandidate(id, events, entry, optimizeFor, o) : lookForTriggers(id, events, entry, optimizeFor, o))
  }
  return plans
}

/** Functions in the lock that Train skips because they have no optimizeFor. */
export function untrained(o: Pick<TrainerOptions, 'lockDir' | 'optimizeFor'>): string[] {
  const lock = new LockStore(o.lockDir).read()
  return Object.keys(lock.functions).filter((id) => !(o.optimizeFor?.[id] ?? lock.functions[id]!.optimizeFor))
}

/**
 * Asks the LLM generator for every candidate a plan left to it: the answer passes the verify gate (inside the
 * generator, as at build time) and becomes the plan's new version, or the plan becomes `rejected` with the reason.
 */
export async function proposeCandidates(plans: Plan[], o: TrainerOptions): Promise<Plan[]> {
  const lock = new LockStore(o.lockDir).read()
  return Promise.all(
    plans.map(async (p): Promise<Plan> => {
      const entry = lock.functions[p.functionId]
      if (!p.ask || !o.llm || !entry) return p
      const { ask, ...plan } = p
      const triggers = p.reason.replace(/ → ask .*$/, '')
      // One function's failed request (an unreadable config, a crash in the generator) is that function's rejection:
      // the other functions' decisions, rollbacks included, still apply.
      const answer = await o.llm
        .propose({ functionId: p.functionId, entry, evidence: ask.evidence, feedback: ask.feedback })
        .catch((e: unknown): Proposal => ({ ok: false, reason: e instanceof Error ? e.message : String(e) }))
      if (!answer.ok) return { ...plan, action: 'rejected', reason: `${triggers}; ${ask.generator} gave no candidate: ${answer.reason}`, rejection: answer.reason }
      if (entry.versions[answer.version]) return { ...plan, action: 'none', reason: `${triggers}; ${ask.generator} proposed ${answer.version}, a version the lock already holds` }
      const base = entry.versions[entry.current]!
      return {
        ...plan,
        candidate: answer.version,
        reason: `${triggers} → new phases from ${answer.generator}, verified`,
        create: {
          source: answer.source,
          metric: ask.metric,
          share: o.share ?? 0.2,
          inputHash: base.inputHash,
          generator: answer.generator,
          ...(answer.model ? { model: answer.model } : {}),
          ...(answer.usage ? { usage: answer.usage } : {}),
          ...(answer.variants?.length ? { variants: answer.variants } : {}),
        },
      }
    }),
  )
}

/** Applies plans to the lock (pointer moves and new candidate versions) and records every decision in the store. */
export function applyTraining(plans: Plan[], o: TrainerOptions): Plan[] {
  const lock = new LockStore(o.lockDir)
  const now = (o.now ?? Date.now)()
  const applied: Plan[] = []
  for (const p of plans) {
    if (p.held && !o.store.decisions(p.functionId).some((d) => d.action === 'hold' && d.ts >= p.held!.since)) {
      o.store.recordDecision({ functionId: p.functionId, ts: now, action: 'hold', from: p.current, reason: p.reason })
    }
    if (p.action === 'wait' || p.action === 'none') continue
    if (p.action === 'rejected') {
      // Nothing reaches the lock; the store keeps the attempt, so the dashboard shows why no candidate came.
      o.store.recordDecision({ functionId: p.functionId, ts: now, action: p.action, from: p.current, reason: p.reason })
      continue
    }
    let done = false
    if (p.action === 'candidate') {
      if (!p.create) continue
      const c = p.create
      const files = lock.writeFiles(p.functionId, p.candidate!, c.source, c.variants)
      lock.update((l) => {
        const entry = l.functions[p.functionId]
        // Another process moved the pointer since the plan was made: the evidence no longer applies.
        if (!entry || entry.current !== p.current || entry.candidate) return
        entry.versions[p.candidate!] ??= {
          inputHash: c.inputHash,
          generator: c.generator,
          ...(c.model ? { model: c.model } : {}),
          ...(c.usage ? { usage: c.usage } : {}),
          ...(c.compiler ? { compiler: c.compiler } : {}),
          created: new Date(now).toISOString(),
          ...files,
          reason: `train: ${p.reason}`,
          origin: 'train',
        }
        entry.candidate = { version: p.candidate!, share: c.share, since: new Date(now).toISOString(), metric: c.metric }
        done = true
      })
    } else {
      lock.update((l) => {
        const entry = l.functions[p.functionId]
        if (!entry || entry.current !== p.current || entry.candidate?.version !== p.candidate) return
        if (p.action === 'promote') entry.current = p.candidate!
        delete entry.candidate
        done = true
      })
    }
    if (!done) continue
    o.store.recordDecision({ functionId: p.functionId, ts: now, action: p.action, from: p.current, to: p.candidate, reason: p.reason })
    applied.push(p)
  }
  return applied
}

function judgeCandidate(id: string, events: EventSource[], entry: LockEntry, optimizeFor: string, o: TrainerOptions): Plan {
  const cand = entry.candidate!
  const since = Date.parse(cand.since ?? entry.versions[cand.version]?.created ?? '') || 0
  const byVersion = new Map(o.store.metrics(events, { since }, { percentiles: false }).map((m) => [m.version, m]))
  const base = byVersion.get(entry.current) ?? noMetrics(entry.current)
  const next = byVersion.get(cand.version) ?? noMetrics(cand.version)
  const primaryName = cand.metric ?? metricName(optimizeFor)
  const names = [...new Set([primaryName, OK_RATE, metricName(optimizeFor)])]
  const [primary, ...guards] = names.map((n) => comparison(n, base, next, o)) as [Comparison, ...Comparison[]]
  const verdict = decide(primary, guards, { ...DEFAULT_RULE, ...o.rule })
  return { functionId: id, action: verdict.action, current: entry.current, candidate: cand.version, reason: verdict.reason }
}

function lookForTriggers(id: string, events: EventSource[], entry: LockEntry, optimizeFor: string, o: TrainerOptions): Plan {
  const now = (o.now ?? Date.now)()
  const recentMs = o.recentMs ?? HOUR
  const baselineMs = o.baselineMs ?? 7 * 24 * HOUR
  const rule = { ...DEFAULT_RULE, ...o.rule }
  const split = now - recentMs
  const pick = (since: number, until: number, percentiles = false) =>
    o.store.metrics(events, { since, until }, { percentiles }).find((m) => m.version === entry.current) ?? noMetrics(entry.current)
  const baseline = pick(split - baselineMs, split)
  const recent = pick(split, now)
  const none = (reason: string): Plan => ({ functionId: id, action: 'none', current: entry.current, reason })

  const triggers: string[] = []
  // What each trigger lets the builtin generator try: failures → timeout and attempts, slowness → timeout,
  // good inputs rejected → repair. A falling score or cost has no builtin parameter (an LLM generator can use the evidence).
  const learn = new Set<Learnable>()
  let metric = OK_RATE
  const up = (name: string, failures: (m: VersionMetrics) => number, fix: Learnable[]) => {
    const c = compare({ name, higherIsBetter: true, margin: o.margins?.rate ?? MARGINS.rate }, rateArm(baseline, failures), rateArm(recent, failures))
    if (c.n.candidate >= rule.minRollback && c.n.baseline >= rule.minRollback && c.pWorse >= rule.rollbackAt) {
      triggers.push(`${name} up: ${pct(1 - c.baseline)} → ${pct(1 - c.candidate)} (P = ${c.pWorse.toFixed(3)})`)
      for (const f of fix) learn.add(f)
    }
  }
  up('error rate', (m) => m.outcomes.error + m.outcomes.timeout, ['timeout', 'attempts'])
  up('validation-failure rate', (m) => m.outcomes.input_error + m.outcomes.output_error, [])
  const target = metricName(optimizeFor)
  if (target !== OK_RATE) {
    const c = comparison(target, baseline, recent, o)
    if (c.n.candidate >= rule.minRollback && c.n.baseline >= rule.minRollback && c.pWorse >= rule.rollbackAt) {
      triggers.push(`${target} ${target === 'latency' ? 'above' : 'below'} its baseline: ${fmtMetric(target, c.baseline)} → ${fmtMetric(target, c.candidate)} (P = ${c.pWorse.toFixed(3)})`)
      metric = target
      if (target === 'latency') learn.add('timeout')
    }
  }
  const source = new LockStore(o.lockDir).source(id, entry.current)
  const current = source ? readLearned(source) : undefined
  // A rejection a learnable threshold made is that threshold's evidence: repair cannot admit it.
  const byThreshold = (issue: string) => [...THRESHOLD_RULES].some((rule) => current?.[rule] !== undefined && issue.endsWith(` (${rule})`))
  const counts = new Map<string, number>()
  for (const r of o.store.goodRejections(events, { since: split - baselineMs, until: now })) {
    for (const issue of new Set(r.issues)) if (!byThreshold(issue)) counts.set(issue, (counts.get(issue) ?? 0) + 1)
  }
  const goodRejections = [...counts].map(([issue, count]) => ({ issue, count })).sort((a, b) => b.count - a.count || (a.issue < b.issue ? -1 : 1))
  const threshold = o.goodRejections ?? 5
  const rated = goodRejections.reduce((n, r) => n + r.count, 0)
  if (rated >= threshold) {
    triggers.push(`${rated} rejected inputs rated good`)
    learn.add('repair')
  }
  // Domain thresholds: each fires its own trigger, only when the current version's calls move it.
  const thresholds = current && learnThresholds(current, o.store.observations(events, entry.current, { since: split - baselineMs, until: now }), { goodRejections: threshold })
  if (thresholds) triggers.push(...thresholds.triggers)
  const minutes = Math.round(recentMs / 60_000)
  if (!triggers.length) {
    return none(recent.calls ? `no trigger (last ${minutes} min: ${recent.calls} call${recent.calls === 1 ? '' : 's'}, ${pct(1 - recent.outcomes.ok / recent.calls)} failed)` : `no trigger (no calls in the last ${minutes} min)`)
  }

  const made = entry.versions[entry.current]?.generator
  if (o.llm && made?.startsWith('openai:')) {
    const evidence: TrainingEvidence = {
      version: entry.current,
      triggers,
      metrics: metricLines(pick(split - baselineMs, now, true), recentMs, baselineMs),
      goodRejections,
      ...(source ? { currentSource: source } : {}),
    }
    const feedback = source ? userFeedback(o.store, events, entry.current, split - baselineMs, now, source) : []
    return { functionId: id, action: 'candidate', current: entry.current, reason: `${triggers.join('; ')} → ask ${made} for new phases with this evidence`, ask: { generator: made, metric, evidence, feedback } }
  }
  const policy = source && readPolicy(source)
  if (!source || !policy) return none(`${triggers.join('; ')}; but the phase module of ${entry.current} is missing or not rendered by unplugin-poet`)
  // The runtime times out only calls that return a promise: a synchronous call cannot be interrupted, so a learned
  // timeout would put a parameter that changes nothing under an A/B test. The module says async when the signature
  // does; a call that timed out proves it for a function whose signature does not tell (plain JS returning a promise).
  const sync = !declaresAsync(source) && baseline.outcomes.timeout + recent.outcomes.timeout === 0
  const noTimeout = sync && learn.delete('timeout')
  // The builtin compiler writes repair code only into a module generated with repair on: in any other, turning the
  // policy's repair on would put a version that rejects exactly what it rejected before under an A/B test.
  const noRepair = !repairs(source) && learn.delete('repair')
  const decisions = o.store.decisions(events)
  // Tested and stopped as a candidate (`to`), or rolled back from after serving as current (`from`: `poet rollback`
  // or the dashboard moving the pointer away from a promoted version).
  const tested = (version: string) =>
    decisions.find((d) => (d.to === version && (d.action === 'rollback' || d.action === 'retire')) || (d.from === version && d.action === 'rollback'))
  const testedReason = (version: string, d: Decision) => `${triggers.join('; ')}; the learned version ${version} was already tested and ${d.action === 'rollback' ? 'rolled back' : 'retired'}`
  // A parameter a rollback undid, or whose test was retired, is learned again only from calls made after it: else the
  // same evidence, a few calls richer, proposes a slightly different value of the change that just lost (or that the
  // user stopped, or that made no difference).
  const pending = coolingDown(id, decisions, o.lockDir, now, recentMs + baselineMs)
  const cooling = o.ignoreCooldown ? new Map<string, Cooling>() : pending
  const evidence = { metrics: pick(split - baselineMs, now, true), goodRejections, goodRejectionThreshold: threshold }
  const whole = learnPolicy(policy, evidence, learn)
  const movedThresholds = thresholds ? differing(current, thresholds.learned) : []
  const held = new Set([...differing(policy, whole.policy), ...movedThresholds].filter((p) => cooling.has(p)))
  if (held.size) {
    // The very version this evidence gives was tested already: say so, as that holds for good, not until a date.
    const version = withPolicy(source, whole.policy, '', thresholds?.changes.length ? thresholds.learned : undefined).version
    const d = tested(version)
    if (d) return none(testedReason(version, d))
  }
  for (const p of learn) if (held.has(p)) learn.delete(p)
  const learned = held.size ? learnPolicy(policy, evidence, learn) : whole
  // A pack's thresholds are learned together, from one distribution: one of them cooling down holds them all back.
  const keptThresholds = thresholds && !movedThresholds.some((k) => held.has(k)) ? thresholds : undefined
  const changes = [...learned.changes, ...(keptThresholds?.changes ?? [])]
  const waits = waiting(held, cooling, recentMs, baselineMs)
  const repairHint = noRepair
    ? `turning repair on in ${entry.current} would change nothing, as its phase module has no repair code: set \`repair: true\` in the function's poet() options to generate the repairs its checks can make`
    : ''
  if (!changes.length && waits) {
    const holding = [...held].map((p) => cooling.get(p)!)
    return { ...none(`${triggers.join('; ')}; ${waits}`), held: { since: Math.max(...holding.map((c) => c.decision.ts)), until: Math.max(...holding.map((c) => c.until)) } }
  }
  if (!changes.length) {
    const why = noTimeout ? `the builtin generator has no parameter to change for this: a timeout cannot apply to a synchronous function${repairHint && `; ${repairHint}`}` : repairHint || 'the builtin generator has no parameter to change for this'
    return none(`${triggers.join('; ')}; ${why} (an LLM generator can propose new phases from this evidence)`)
  }
  if (keptThresholds?.metric === 'target' && metric === OK_RATE) metric = target
  // Said in the candidate's reason: the lock and the dashboard then show that it was proposed before its time.
  const overridden = new Set([...differing(policy, learned.policy), ...(keptThresholds ? movedThresholds : [])].filter((p) => pending.has(p) && !cooling.has(p)))
  const ignored = overridden.size ? `; cool-down ignored on request: ${waiting(overridden, pending, recentMs, baselineMs)}` : ''
  const reason = `${triggers.join('; ')} → ${changes.join('; ')}${repairHint && `; ${repairHint}`}${waits && `; ${waits}`}${ignored}`
  const next = withPolicy(source, learned.policy, reason, keptThresholds?.changes.length ? keptThresholds.learned : undefined)
  const tried = tested(next.version)
  if (tried) return none(testedReason(next.version, tried))
  const base = entry.versions[entry.current]!
  return {
    functionId: id,
    action: 'candidate',
    current: entry.current,
    candidate: next.version,
    reason,
    create: {
      source: next.source,
      metric,
      share: o.share ?? 0.2,
      // The base's input hash: the plugin keeps serving the lock for unchanged source, whichever version is current.
      inputHash: base.inputHash,
      generator: base.generator,
      ...(base.model ? { model: base.model } : {}),
      // A fallback's policy change is the same compiler's module: the build must not take it for an outdated one.
      ...(base.compiler ? { compiler: base.compiler } : {}),
    },
  }
}

/** A rollback or a retired test still cooling down, and when its cool-down ends. */
interface Cooling {
  decision: Decision
  until: number
}

/**
 * The parameters (policy keys, learned thresholds) that a rollback still cooling down undid, or that a retired test
 * tried, each with the latest such decision and when its cool-down ends: when the window Train reads (`windowMs`)
 * holds only calls made after it. A retired candidate was no better on that evidence: the same evidence, a few calls
 * richer, would propose the same change again at once.
 */
function coolingDown(id: string, decisions: Decision[], lockDir: string, now: number, windowMs: number): Map<string, Cooling> {
  const lock = new LockStore(lockDir)
  const file = lock.read()
  const cooling = new Map<string, Cooling>()
  for (const d of decisions) {
    if ((d.action !== 'rollback' && d.action !== 'retire') || !d.from || !d.to || d.ts + windowMs <= now) continue
    const [a, b] = [lock.source(id, d.from, file), lock.source(id, d.to, file)]
    // One object per decision: `waiting` names the parameters a decision holds back together.
    const hold = { decision: d, until: d.ts + windowMs }
    if (a && b) for (const p of changedParameters(a, b)) cooling.set(p, hold)
  }
  return cooling
}

/** The policy keys and learned thresholds in which two rendered phase modules differ. */
function changedParameters(a: string, b: string): string[] {
  return [...differing(readPolicy(a), readPolicy(b)), ...differing(readLearned(a), readLearned(b))]
}

/** The keys whose values two objects (a policy, learned thresholds) do not share. */
function differing(x: object = {}, y: object = {}): string[] {
  const [xs, ys] = [x as Record<string, unknown>, y as Record<string, unknown>]
  return [...new Set([...Object.keys(xs), ...Object.keys(ys)])].filter((k) => JSON.stringify(xs[k]) !== JSON.stringify(ys[k]))
}

/** Why the `held` parameters are not learned now, one clause per decision: when it happened, its reason, and until when. */
function waiting(held: ReadonlySet<string>, cooling: ReadonlyMap<string, Cooling>, recentMs: number, baselineMs: number): string {
  const byDecision = new Map<Cooling, string[]>()
  for (const p of held) {
    const c = cooling.get(p)!
    byDecision.set(c, [...(byDecision.get(c) ?? []), p])
  }
  const window = `the last ${Math.round(recentMs / 60_000)} min and the ${Number((baselineMs / (24 * HOUR)).toFixed(2))} days before`
  return [...byDecision]
    .map(([{ decision: d, until }, ps]) => {
      const names = ps.join(' and ')
      const what = d.action === 'retire' ? 'was tested and retired' : 'was rolled back'
      return `${names} ${ps.length === 1 ? 'waits' : 'wait'}: a change of ${ps.length === 1 ? 'it' : 'them'} ${what} on ${utc(d.ts)} (${d.reason}); no new ${names} before ${utc(Math.ceil(until / 60_000) * 60_000)}, when the calls Train reads (${window}) were all made since`
    })
    .join('; ')
}

function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

/** Whether a phase module does anything under `repair: true`: a repair reads `ctx.repair` or records itself in `ctx.repairs`. */
function repairs(source: string): boolean {
  return /\bctx\.repairs?\b/.test(source)
}

const counted = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

/** What the prompt says about the current version's calls: numbers only, computed here. */
export function metricLines(m: VersionMetrics, recentMs: number, baselineMs: number): string[] {
  const days = (recentMs + baselineMs) / (24 * HOUR)
  // Per call that ran: a rejected input runs no attempt, and counted in it would read as calls that never tried.
  const ran = m.calls - m.outcomes.input_error
  const lines = [`over the last ${counted(Number(days.toFixed(2)), 'day')}: ${counted(m.calls, 'call')}, ${(m.attempts / (ran || 1)).toFixed(2)} attempts per call that ran (a rejected input runs none)`]
  const kinds = (['input_error', 'output_error', 'timeout', 'error'] as const).map((k) => `${k} ${pct(m.errorRate[k] || 0)} (${m.outcomes[k]})`)
  lines.push(`failures by kind: ${kinds.join(', ')}`)
  if (m.calls) lines.push(`latency of all calls: p50 ${m.latency.p50} ms, p95 ${m.latency.p95} ms, p99 ${m.latency.p99} ms`)
  if (m.outcomes.ok) lines.push(`latency of successful calls: mean ${m.okLatency.mean.mean.toFixed(1)} ms, p99 ${m.okLatency.p99} ms`)
  if (m.score.n) lines.push(`feedback score: mean ${m.score.mean.toFixed(3)} over ${counted(m.score.n, 'rating')}`)
  for (const [name, s] of Object.entries(m.metrics).sort()) lines.push(`feedback metric ${name}: mean ${s.mean.toFixed(3)} over ${counted(s.n, 'rating')}`)
  return lines
}

/**
 * Recent feedback with text, for the prompt (quoted there as untrusted): labels and comments only where the function's
 * domain lets events carry them (the module's `neverInEvents`), whatever a forged event may have stored.
 */
function userFeedback(store: FeedbackStore, events: EventSource[], version: string, since: number, until: number, source: string): string[] {
  const forbidden = new Set<string>(jsonLine<string[]>(source, NEVER_IN_EVENTS_LINE) ?? [])
  if (forbidden.has('comment') && forbidden.has('label')) return []
  // Feedback that differs only in what the domain leaves out reads the same: one line, with the counts added up.
  const lines = new Map<string, number>()
  for (const f of store.comments(events, version, { since, until })) {
    const parts = [f.score !== undefined ? `score ${f.score}` : '', !forbidden.has('label') && f.label ? `label ${JSON.stringify(f.label)}` : '']
    const text = !forbidden.has('comment') && f.comment ? `: ${f.comment}` : ''
    const line = text || parts[1] ? `${parts.filter(Boolean).join(', ')}${text}` : ''
    if (line) lines.set(line, (lines.get(line) ?? 0) + (f.count ?? 1))
  }
  return [...lines].map(([line, n]) => (n > 1 ? `${line} (×${n})` : line))
}

/** The metric a function's optimizeFor names: accuracy and quality are the feedback score. */
export function metricName(optimizeFor: string): string {
  if (optimizeFor === 'accuracy' || optimizeFor === 'quality') return 'feedback score'
  return optimizeFor
}

function comparison(name: string, base: VersionMetrics, cand: VersionMetrics, o: TrainerOptions): Comparison {
  const margins = { ...MARGINS, ...o.margins }
  const { arm: b, spec } = armOf(name, base, margins)
  return compare(spec, b, armOf(name, cand, margins).arm)
}

function armOf(name: string, m: VersionMetrics, margins: typeof MARGINS): { arm: Arm; spec: MetricSpec } {
  if (name === OK_RATE) return { arm: rateArm(m, (x) => x.calls - x.outcomes.ok), spec: { name, higherIsBetter: true, margin: margins.rate } }
  if (name === 'feedback score') {
    return { arm: { kind: 'rate', n: m.score.n, successes: m.score.clampedSum }, spec: { name, higherIsBetter: true, margin: margins.rate } }
  }
  if (name === 'latency') {
    const s = m.okLatency.mean
    return { arm: { kind: 'mean', ...s }, spec: { name: 'latency (mean ms of successful calls)', higherIsBetter: false, margin: Math.max(1e-9, s.mean * margins.relative) } }
  }
  // `cost` or a custom feedback metric: cost is lower-is-better, every other custom metric higher-is-better.
  const s = m.metrics[name] ?? { n: 0, mean: 0, variance: 0 }
  return { arm: { kind: 'mean', ...s }, spec: { name, higherIsBetter: name !== 'cost', margin: Math.max(1e-9, Math.abs(s.mean) * margins.relative) } }
}

function rateArm(m: VersionMetrics, failures: (m: VersionMetrics) => number): Arm {
  return { kind: 'rate', n: m.calls, successes: m.calls - failures(m) }
}

function fmtMetric(name: string, x: number): string {
  return name === 'latency' ? `${x.toFixed(1)} ms` : x.toFixed(3)
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`
}
