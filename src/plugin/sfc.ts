// Vue and Svelte single-file components: where their script blocks are, so poet() inside them is scanned in place.

/** A component file whose script blocks the transform scans: `.vue` (Vue) and `.svelte` (Svelte). */
export const COMPONENT_FILE = /\.(?:vue|svelte)$/

export type ScriptLang = 'ts' | 'tsx' | 'js' | 'jsx'

export interface ScriptBlock {
  /** Offsets of the block's content (between `<script …>` and `</script>`) in the component's text. */
  start: number
  end: number
  lang: ScriptLang
  /**
   * A block that sees the imports of the component's outer one: Vue's <script setup> (beside <script>), Svelte's
   * instance script (beside <script module>).
   */
  inner: boolean
}

/** A block in a language the parser does not read (`lang="coffee"`): its offset, for a warning. */
export interface ForeignBlock {
  start: number
  end: number
  lang: string
}

export interface ComponentParts {
  scripts: ScriptBlock[]
  foreign: ForeignBlock[]
  /**
   * The component's text with every script and style block and every comment blanked: its template (Vue) or markup
   * (Svelte), positions kept, where a poet() call would run without being transformed.
   */
  markup: string
}

// Comments first, so a commented-out block is skipped; then script and style blocks. Attribute values may hold `>`
// (Vue's `generic="T extends Record<string, number>"`), so they are matched whole. The same tags Svelte's own
// preprocessors find; Vue's compiler takes only top-level blocks, and a script nested in a template cannot import poet.
const BLOCK =
  /<!--[\s\S]*?(?:-->|$)|<(script|style)((?:\s+[^\s=>/"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)\s*(?:\/>|>([\s\S]*?)(<\/\1\s*>|$))/gi
const ATTRIBUTE = /([^\s=>/"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g

/** Finds the script blocks of a Vue or Svelte component, and what lies outside them. */
export function componentParts(code: string, file: string): ComponentParts {
  const svelte = file.endsWith('.svelte')
  const scripts: ScriptBlock[] = []
  const foreign: ForeignBlock[] = []
  const blanked: [number, number][] = []
  for (const m of code.matchAll(BLOCK)) {
    blanked.push([m.index, m.index + m[0].length])
    const [whole, tag, attributes = '', content, closing = ''] = m
    if (tag?.toLowerCase() !== 'script' || content === undefined) continue
    const attrs = readAttributes(attributes)
    // `<script src="…">`: the file it names is a module of its own, transformed as one.
    if (attrs.has('src')) continue
    const start = m.index + whole.length - closing.length - content.length
    const lang = scriptLang(attrs)
    const inner = svelte ? !attrs.has('module') && attrs.get('context') !== 'module' : attrs.has('setup')
    if (typeof lang === 'string' && isParsed(lang)) scripts.push({ start, end: start + content.length, lang, inner })
    else if (lang) foreign.push({ start, end: start + content.length, lang: lang.other })
  }
  return { scripts, foreign, markup: blank(code, blanked) }
}

/**
 * The component's text with only `ranges` kept and everything else turned into spaces, line breaks kept: parsed as a
 * module, its positions (offsets, lines and columns) are those of the component itself.
 */
export function keepOnly(code: string, ranges: readonly { start: number; end: number }[]): string {
  let out = ''
  let at = 0
  for (const { start, end } of [...ranges].sort((a, b) => a.start - b.start)) {
    out += spaces(code.slice(at, start)) + code.slice(start, end)
    at = end
  }
  return out + spaces(code.slice(at))
}

function blank(code: string, ranges: [number, number][]): string {
  let out = ''
  let at = 0
  for (const [start, end] of ranges) {
    out += code.slice(at, start) + spaces(code.slice(start, end))
    at = end
  }
  return out + code.slice(at)
}

function spaces(text: string): string {
  return text.replace(/[^\r\n\u2028\u2029]/g, ' ')
}

function readAttributes(text: string): Map<string, string> {
  const attrs = new Map<string, string>()
  for (const m of text.matchAll(ATTRIBUTE)) attrs.set(m[1]!.toLowerCase(), m[2] ?? m[3] ?? m[4] ?? '')
  return attrs
}

/** The block's language from `lang`, else from a `type` naming TypeScript; undefined for a block that is not script. */
function scriptLang(attrs: Map<string, string>): ScriptLang | { other: string } | undefined {
  const lang = attrs.get('lang')?.toLowerCase()
  if (lang !== undefined) return isParsed(lang) ? lang : lang === 'typescript' ? 'ts' : { other: lang }
  const type = attrs.get('type')?.toLowerCase()
  if (type === undefined || type === '' || type === 'module' || /^(?:text|application)\/(?:javascript|ecmascript)$/.test(type)) return 'js'
  if (type === 'text/typescript' || type === 'text/ts') return 'ts'
  // `application/ld+json`, `text/template` …: data, not code.
  return undefined
}

function isParsed(lang: string): lang is ScriptLang {
  return lang === 'ts' || lang === 'tsx' || lang === 'js' || lang === 'jsx'
}
