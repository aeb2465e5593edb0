// Source maps of built chunks that name a component by its rewritten text: put back what the user wrote.
import { decode, encode } from '@jridgewell/sourcemap-codec'

/** What a chunk's source map holds, as Vite, Rollup and Rolldown hand it to generateBundle, and as JSON. */
interface ChunkMap {
  sources: (string | null)[]
  sourcesContent?: (string | null)[]
  mappings: string
  ignoreList?: number[]
  x_google_ignoreList?: number[]
}

interface OutputItem {
  type: string
  fileName: string
  map?: ChunkMap | null
  sourcemapFileName?: string | null
  source?: string | Uint8Array
  code?: string
}

/** A map inlined at the end of a chunk (`sourcemap: 'inline'`). */
const INLINE_MAP = /(\/\/# sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,)([A-Za-z0-9+/=]+)(\s*)$/

/**
 * Where Vue's plugin serves a component's script block apart (`Cart.vue?vue&type=script&setup=true&lang.ts`: a
 * TypeScript block in a build), it maps the block against the component it was given, which the poet plugin had
 * rewritten: the map then listed the component twice, once with the text the user wrote and once with the rewritten
 * one (`_p0_(…)`, the appended imports). The rewrite moves no position, so the rewritten copy is replaced by the
 * text it was made from and merged into the other entry of the same file.
 * `rewritten`: each rewritten component's text, with its original.
 */
export function restoreComponentSources(bundle: Record<string, OutputItem>, rewritten: ReadonlyMap<string, string>): void {
  if (rewritten.size === 0) return
  for (const chunk of Object.values(bundle)) {
    if (chunk.type !== 'chunk' || !chunk.map) continue
    if (!restore(chunk.map, rewritten)) continue
    const inline = chunk.code === undefined ? null : INLINE_MAP.exec(chunk.code)
    if (inline) {
      const json = JSON.parse(Buffer.from(inline[2]!, 'base64').toString('utf8')) as ChunkMap
      restore(json, rewritten)
      chunk.code = chunk.code!.slice(0, inline.index) + inline[1] + Buffer.from(JSON.stringify(json)).toString('base64') + inline[3]
    }
    // Rollup and Rolldown emit the map file before generateBundle, from the map as it was.
    const asset = bundle[chunk.sourcemapFileName ?? `${chunk.fileName}.map`]
    if (asset?.type === 'asset' && typeof asset.source === 'string') {
      const json = JSON.parse(asset.source) as ChunkMap
      restore(json, rewritten)
      asset.source = JSON.stringify(json)
    }
  }
}

/** Restores `map` in place; false when it names no rewritten component. */
function restore(map: ChunkMap, rewritten: ReadonlyMap<string, string>): boolean {
  const contents = map.sourcesContent
  if (!contents?.some((c) => c != null && rewritten.has(c))) return false
  const restored = contents.map((c) => (c == null ? c : (rewritten.get(c) ?? c)))
  // Each source's index once sources of the same name and text are merged.
  const first = new Map<string, number>()
  const index: number[] = []
  const sources: (string | null)[] = []
  const sourcesContent: (string | null)[] = []
  map.sources.forEach((source, i) => {
    const key = source === null || restored[i] == null ? undefined : JSON.stringify([source, restored[i]])
    const at = key === undefined ? undefined : first.get(key)
    if (at !== undefined) return void index.push(at)
    if (key !== undefined) first.set(key, sources.length)
    index.push(sources.length)
    sources.push(source)
    sourcesContent.push(restored[i] ?? null)
  })
  map.sourcesContent = sourcesContent
  if (sources.length < map.sources.length) {
    map.sources = sources
    map.mappings = encode(decode(map.mappings).map((line) => line.map((s) => (s.length === 1 ? s : s.length === 4 ? [s[0], index[s[1]]!, s[2], s[3]] : [s[0], index[s[1]]!, s[2], s[3], s[4]]))))
    for (const key of ['ignoreList', 'x_google_ignoreList'] as const) {
      const list = map[key]
      if (list) map[key] = [...new Set(list.map((i) => index[i]!))]
    }
  }
  return true
}
