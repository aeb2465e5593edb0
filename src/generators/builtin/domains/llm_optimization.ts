// The `llm_optimization` pack: non-empty bounded prompts, and model output that is non-empty, bounded and parseable.
import type { TypeIR } from '../../spec'
import type { DomainPack, RuleSite } from '../domain'
import { core, isString, issue, keyHas, repaired } from './emit'

const PROMPT = 'llm_optimization.non_empty_prompt'
const PROMPT_LENGTH = 'llm_optimization.prompt_length'
const OUTPUT = 'llm_optimization.non_empty_output'
const OUTPUT_LENGTH = 'llm_optimization.output_length'
const JSON_OUTPUT = 'llm_optimization.json_output'

/** About 50k tokens: beyond it a prompt is almost surely an accident (a whole file pasted), and a costly one. */
const MAX_PROMPT_CHARS = 200_000
const MAX_OUTPUT_CHARS = 100_000

const PROMPT_WORDS = new Set(['prompt', 'prompts', 'query', 'question', 'instruction', 'instructions', 'message', 'system'])
const isPromptKey = (key: string | undefined): boolean => keyHas(key, PROMPT_WORDS, new Set(['id', 'count', 'tokens', 'type', 'role']))

const helpers = `// llm_optimization: model output often arrives wrapped in a Markdown code fence.
function llmUnfence(s) {
  const m = /^\\s*\`\`\`[A-Za-z]*\\s*\\n([\\s\\S]*?)\\n?\`\`\`\\s*$/.exec(s)
  return (m ? m[1] : s).trim()
}
function llmParses(s) {
  try {
    JSON.parse(s)
    return true
  } catch {
    return false
  }
}`

function promptCheck(site: RuleSite): string | undefined {
  if (!isPromptKey(site.key) || !isString(site.type)) return undefined
  const v = site.value
  return [
    `// ${PROMPT}, ${PROMPT_LENGTH}`,
    `if (typeof ${v} === 'string') {`,
    site.repair && site.target
      ? [
          `  if (${v} !== ${v}.trim() && ${v}.trim() !== '') {`,
          `    ${site.target} = ${v}.trim();`,
          `    ${repaired(site.path, 'trimmed surrounding whitespace', PROMPT)}`,
          `  }`,
        ].join('\n')
      : undefined,
    `  if (${v}.trim() === '') ${issue(site.path, 'non-empty prompt', v, PROMPT)}`,
    `  else if (${v}.length > ${MAX_PROMPT_CHARS}) ${issue(site.path, `prompt of at most ${MAX_PROMPT_CHARS} characters`, v, PROMPT_LENGTH)}`,
    `  const st = (ctx.stats ??= {})`,
    `  st.prompt_chars = (st.prompt_chars ?? 0) + ${v}.length`,
    `}`,
  ]
    .filter((l) => l !== undefined)
    .join('\n')
}

/** Where the type wants structured data, a string result is model text that may hold it as JSON. */
function wantsStructure(type: TypeIR): boolean {
  const t = core(type)
  return t.kind === 'objectType' || t.kind === 'record' || t.kind === 'array' || t.kind === 'tuple'
}

export const llmOptimization: DomainPack = {
  name: 'llm_optimization',
  version: '1.0.0',
  description: 'Calls to language models: prompts non-empty and bounded; output non-empty, bounded, and valid JSON when it looks like JSON.',
  // Model APIs are slow and rate-limited: a long timeout, and retries only on what a retry can fix.
  policy: { attempts: 3, timeout: 60_000, retryOn: 'transient' },
  neverInEvents: ['values', 'comment'],
  helpers,
  perceive: [
    {
      id: PROMPT,
      description: 'prompt-like strings (`prompt`, `query`, `question`, `instruction`, `message` …) are not blank; stat `prompt_chars`; repair trims whitespace',
      check: promptCheck,
    },
    { id: PROMPT_LENGTH, description: `prompts hold at most ${MAX_PROMPT_CHARS} characters` },
  ],
  enforce: [
    {
      id: OUTPUT,
      description: `a string result is not blank and holds at most ${MAX_OUTPUT_CHARS} characters (\`${OUTPUT_LENGTH}\`)`,
      whole(spec, phase) {
        if (phase !== 'enforce' || !isString(spec.returns, spec.types)) return undefined
        return [
          `// ${OUTPUT}, ${OUTPUT_LENGTH}`,
          `if (typeof ctx.result === 'string') {`,
          `  if (ctx.result.trim() === '') ${issue('"result"', 'non-empty output', 'ctx.result', OUTPUT)}`,
          `  else if (ctx.result.length > ${MAX_OUTPUT_CHARS}) ${issue('"result"', `output of at most ${MAX_OUTPUT_CHARS} characters`, 'ctx.result', OUTPUT_LENGTH)}`,
          `  // ${JSON_OUTPUT}: text that starts like a JSON object or array must be complete JSON`,
          `  else if (/^\\s*(\\{\\s*["}]|\\[\\s*[\\[{"\\]\\d-]|\\[\\s*(true|false|null)\\b)/.test(ctx.result) && !llmParses(ctx.result)) ${issue('"result"', 'valid JSON', 'ctx.result', JSON_OUTPUT)}`,
          `}`,
        ].join('\n')
      },
    },
    {
      id: JSON_OUTPUT,
      description: 'a string result that starts like JSON (`{"…`, `[1…`) parses, so truncated output is caught; repair parses JSON text, fenced or not, where an object or array is expected',
      coerce(site) {
        if (!site.target || !wantsStructure(site.type)) return undefined
        const v = site.value
        return [
          `if (typeof ${v} === 'string' && llmParses(llmUnfence(${v}))) {`,
          `  ${site.target} = JSON.parse(llmUnfence(${v}));`,
          `  ${repaired(site.path, 'JSON text → parsed value', JSON_OUTPUT)}`,
          `}`,
        ].join('\n')
      },
    },
  ],
}
