// The trainer's LLM proposer: finds the function and its generator config in the project, asks for phases with the evidence, renders what passes the verify gate.
import { phaseInputHash } from '../generators'
import { generateBuiltin } from '../generators/builtin'
import type { LlmGeneratorOptions } from '../generators/llm'
import { renderPhaseModule } from '../generators/render'
import type { ResolvedOptions } from '../plugin/options'
import type { ScannedProject } from '../cli/project'
import type { LlmProposer, Proposal } from './trainer'

export interface ProjectContext {
  options: ResolvedOptions
  project: ScannedProject
  /** Where `OPENAI_BASE_URL` is read when the config names no baseURL (the CLI's environment). */
  env: Record<string, string | undefined>
}

/**
 * A proposer over a scanned project. `load` runs once, at the first request, so `poet train` reads the config and
 * scans the sources only when a function's phases came from an LLM.
 */
export function projectProposer(load: () => Promise<ProjectContext>): LlmProposer {
  let loaded: Promise<ProjectContext & { config?: LlmGeneratorOptions }> | undefined
  // One config object for every request: the generator behind it (and its concurrency limit) is shared per object.
  const withConfig = async (): Promise<ProjectContext & { config?: LlmGeneratorOptions }> => {
    const c = await load()
    const g = c.options.generator
    if (g.provider !== 'openai') return c
    return { ...c, config: { ...g, ...(g.baseURL === undefined && c.env.OPENAI_BASE_URL ? { baseURL: c.env.OPENAI_BASE_URL } : {}) } }
  }
  return {
    async propose({ functionId, entry, evidence, feedback }): Promise<Proposal> {
      const { options, project, config } = await (loaded ??= withConfig())
      const made = entry.versions[entry.current]!.generator
      if (!config) {
        return { ok: false, reason: `its phases came from ${made}, but the project configures no LLM generator: set generator in poet.config.json (or pass --model and --base-url)` }
      }
      const spec = project.specs.find((s) => s.id === functionId)
      if (!spec) return { ok: false, reason: `no poet() function ${functionId} in ${options.root} any more (renamed or removed? run \`poet generate\`)` }
      const pack = spec.options.domain ? project.registry.get(spec.options.domain) : undefined
      if (phaseInputHash(spec, options.generator, pack) !== entry.versions[entry.current]!.inputHash) {
        return { ok: false, reason: `its source, options or generator changed since ${entry.current} was generated: run \`poet generate\` first` }
      }
      // Loaded here, not at the top: `poet serve`, `train` and `rollback` import this file, and only a proposal needs the SDK.
      const { generateWithLlm } = await import('../generators/llm')
      const result = await generateWithLlm(spec, config, generateBuiltin(spec, { pack }), {
        ...(pack ? { pack } : {}),
        // The fallback to builtin phases that a build would take is no candidate here: its reason is the answer.
        warn: () => {},
        feedback,
        evidence,
      })
      if (result.fallback) return { ok: false, reason: result.fallback }
      const rendered = renderPhaseModule(functionId, result.parts, { async: spec.async })
      const reason = evidence.triggers.join('; ').replace(/\n/g, ' ')
      return {
        ok: true,
        version: rendered.version,
        source: rendered.source.replace(/^(\/\/ POET phases for .*)$/m, (line) => `${line}\n// trained from ${entry.current}: ${reason}`),
        generator: result.parts.generator,
        model: result.model,
        ...(result.usage ? { usage: result.usage } : {}),
        ...(result.variants?.length ? { variants: result.variants } : {}),
      }
    },
  }
}
