// Sample values drawn from a function's declared types: plain valid ones, and near misses one position off.
import type { FunctionSpec, TypeIR } from '../spec'

/** A value as a small tree, so that one position can be swapped for a wrong value; leaves are JS expressions. */
type Value = { src: string } | { items: Value[] } | { props: [string, Value][] }

export interface Sample {
  /** JS expression evaluating to the arguments array (perceive) or the result (enforce). */
  value: string
  /** Where the sample differs from a plain valid value, e.g. `args[0][1] = NaN`; empty for plain ones. */
  label: string
  /** A plain valid value: the candidate must accept it whenever the builtin validator does. */
  plain: boolean
}

/** Wrong values tried at every position; the builtin validator says which of them are type errors. */
const WRONG = ['"x"', '1', '-1', '0.5', 'NaN', 'true', 'null', 'undefined', '({})', '[]', '""', 'new Date(0)']
const MAX_SAMPLES = 160
const MAX_DEPTH = 4

export function sampleArgs(spec: FunctionSpec): Sample[] {
  const variants: Value[][] = [[]]
  for (const p of spec.params) {
    const type = p.rest ? restElement(p.type) : p.type
    const options = valid(type, spec, 0)
    const next: Value[][] = []
    for (const prefix of variants) for (const v of options.slice(0, 2)) next.push([...prefix, v])
    if (p.optional || p.rest) next.push(...variants)
    variants.splice(0, variants.length, ...next.slice(0, 6))
  }
  const plain = variants.map((items): Sample => ({ value: print({ items }), label: '', plain: true }))
  const first = variants[0]!
  // The runtime always passes an array, so the root itself is never swapped: only arguments and what is inside them.
  const near: Sample[] = nearMisses({ items: first }, 'args', false)
  if (first.length) near.push({ value: print({ items: first.slice(0, -1) }), label: `args without its last argument`, plain: false })
  return [...plain, ...near].slice(0, MAX_SAMPLES)
}

export function sampleResults(spec: FunctionSpec): Sample[] {
  const options = valid(spec.returns, spec, 0)
  const plain = options.map((v): Sample => ({ value: print(v), label: '', plain: true }))
  return [...plain, ...nearMisses(options[0]!, 'result')].slice(0, MAX_SAMPLES)
}

function restElement(t: TypeIR): TypeIR {
  return t.kind === 'array' ? t.element : { kind: 'unknown' }
}

/** One to three plain valid values for `t` (one per union member, with and without optional properties). */
function valid(t: TypeIR, spec: FunctionSpec, depth: number): Value[] {
  if (depth > MAX_DEPTH) return [{ src: 'undefined' }]
  switch (t.kind) {
    case 'string':
      return [{ src: '"a"' }]
    case 'number':
      return [{ src: '1' }, { src: '2.5' }]
    case 'boolean':
      return [{ src: 'true' }, { src: 'false' }]
    case 'bigint':
      return [{ src: '1n' }]
    case 'symbol':
      return [{ src: 'Symbol("s")' }]
    case 'null':
      return [{ src: 'null' }]
    case 'undefined':
    case 'void':
      return [{ src: 'undefined' }]
    case 'object':
      return [{ src: '({})' }]
    case 'function':
      return [{ src: '(function () {})' }]
    case 'literal':
      return [{ src: typeof t.value === 'bigint' ? `${t.value}n` : JSON.stringify(t.value) }]
    case 'date':
      return [{ src: 'new Date(0)' }]
    case 'enum':
      return t.members.slice(0, 2).map((m) => ({ src: JSON.stringify(m.value) }))
    case 'array': {
      const el = valid(t.element, spec, depth + 1)
      return [{ items: [el[0]!, el[el.length - 1]!] }, { items: [] }]
    }
    case 'tuple': {
      const items: Value[] = []
      for (const e of t.elements) {
        if (e.rest) break
        items.push(valid(e.type, spec, depth + 1)[0]!)
      }
      return [{ items }]
    }
    case 'objectType': {
      const all: [string, Value][] = t.properties.map((p) => [p.name, valid(p.type, spec, depth + 1)[0]!])
      const required = all.filter(([name]) => !t.properties.find((p) => p.name === name)!.optional)
      return required.length === all.length ? [{ props: all }] : [{ props: all }, { props: required }]
    }
    case 'record': {
      const key = t.key.kind === 'literal' ? String(t.key.value) : 'k'
      return [{ props: [[key, valid(t.value, spec, depth + 1)[0]!]] }, { props: [] }]
    }
    case 'union':
      return t.types.slice(0, 3).map((m) => valid(m, spec, depth + 1)[0]!)
    case 'intersection': {
      const props: [string, Value][] = []
      for (const m of t.types) {
        const v = valid(m, spec, depth + 1)[0]!
        if ('props' in v) props.push(...v.props)
      }
      // A callable type with properties (`{ (x: number): string; label: string }`) takes a function that has them.
      if (t.types.some((m) => m.kind === 'function')) return [{ src: `Object.assign(function () {}, ${print({ props })})` }]
      return [{ props }]
    }
    case 'ref': {
      const target = spec.types[t.name]
      return target ? valid(target, spec, depth + 1) : [{ src: '1' }]
    }
    case 'template':
    case 'never':
    case 'unknown':
    case 'any':
      return [{ src: '1' }]
  }
}

/** The value with one position (the root, an element, a property) replaced by each wrong value. */
function nearMisses(root: Value, rootPath: string, swapRoot = true): Sample[] {
  const out: Sample[] = []
  const visit = (replace: (v: Value) => Value, node: Value, path: string): void => {
    if (node !== root || swapRoot) for (const w of WRONG) out.push({ value: print(replace({ src: w })), label: `${path} = ${w}`, plain: false })
    if ('items' in node) {
      node.items.forEach((item, i) =>
        visit((v) => replace({ items: node.items.map((x, j) => (j === i ? v : x)) }), item, `${path}[${i}]`),
      )
    } else if ('props' in node) {
      node.props.forEach(([k, item], i) =>
        visit((v) => replace({ props: node.props.map((x, j) => (j === i ? ([k, v] as [string, Value]) : x)) }), item, `${path}.${k}`),
      )
      if (node.props.length) out.push({ value: print(replace({ props: node.props.slice(1) })), label: `${path} without ${node.props[0]![0]}`, plain: false })
    }
  }
  visit((v) => v, root, rootPath)
  return out
}

function print(v: Value): string {
  if ('src' in v) return v.src
  if ('items' in v) return `[${v.items.map(print).join(', ')}]`
  return `({ ${v.props.map(([k, x]) => `${JSON.stringify(k)}: ${print(x)}`).join(', ')} })`
}
