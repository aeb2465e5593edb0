// The module-level helpers generated validators call: written into every phase module, shared by one module in a bundle.

/** Issues kept per phase call; the rest are dropped so a huge bad input cannot flood events. */
export const MAX_ISSUES = 20
/** Deeper than this, a recursive value is rejected instead of overflowing the stack. */
export const MAX_DEPTH = 2000

/**
 * The module helpers every validator may call. `add` and `describe` are the contract domain rules use
 * (see domain.ts); the rest are emitted only when the compiled code needs them.
 */
export const CORE_HELPERS: Record<string, { deps?: string[]; code: string }> = {
  describe: {
    code: `// What a value is, without revealing it.
function describe(v) {
  if (v === null) return "null"
  switch (typeof v) {
    case "number": return v !== v ? "NaN" : v === Infinity ? "Infinity" : v === -Infinity ? "-Infinity" : "number"
    case "object": return Array.isArray(v) ? "array" : v instanceof Date ? (v.getTime() !== v.getTime() ? "invalid Date" : "Date") : "object"
    default: return typeof v
  }
}`,
  },
  add: {
    deps: ['describe', 'addReceived'],
    code: `// Records one issue (the first ${MAX_ISSUES} are kept).
function add(issues, path, expected, value, rule) {
  return addReceived(issues, path, expected, describe(value), rule)
}`,
  },
  addReceived: {
    code: `function addReceived(issues, path, expected, received, rule) {
  if (issues === undefined) issues = []
  if (issues.length < ${MAX_ISSUES}) issues.push(rule === undefined ? { path, expected, received } : { path, expected, received, rule })
  return issues
}`,
  },
  literal: {
    deps: ['describe'],
    code: `// Names a mismatching literal-like value (short strings are shown, quoted), so "expected "a" | "b", received "c"" reads well.
function literal(v) {
  if (typeof v === "string") return v.length <= 32 ? JSON.stringify(v) : "a string of " + v.length + " characters"
  if (typeof v === "boolean" || (typeof v === "number" && v === v && v !== Infinity && v !== -Infinity)) return String(v)
  if (typeof v === "bigint") return v + "n"
  return describe(v)
}`,
  },
  nest: {
    code: `// Adds the issues a nested check reported, prefixing their relative paths.
function nest(issues, prefix, inner) {
  if (issues === undefined) issues = []
  for (let i = 0; i < inner.length && issues.length < ${MAX_ISSUES}; i++) {
    const it = inner[i]
    issues.push({ ...it, path: prefix + it.path })
  }
  return issues
}`,
  },
  key: {
    code: `function key(k) {
  return /^[A-Za-z_$][\\w$]*$/.test(k) ? "." + k : "[" + JSON.stringify(k) + "]"
}`,
  },
  collapse: {
    deps: ['add'],
    code: `// Replaces the issues found inside a value since \`from\` with one issue about the value itself.
function collapse(issues, from, path, expected, value) {
  issues.length = from
  return add(from === 0 ? undefined : issues, path, expected, value)
}`,
  },
  closer: {
    code: `// Which failed union member is nearer the value: fewer issues, and on a tie, issues inside it beat one about the value itself.
function closer(a, b, path) {
  const score = (list) => list.length + (list.some((it) => it.path === path) ? 0.5 : 0)
  return score(a) < score(b)
}`,
  },
  hasOwn: {
    code: `const hasOwn = Object.prototype.hasOwnProperty`,
  },
  deep: {
    code: `// The objects a recursive check is inside of: a cycle is accepted when it comes round again (each object is checked once).
const within = []
function deep(check, v, d, ctx) {
  if (within.includes(v)) return undefined
  if (d > ${MAX_DEPTH}) return [{ path: "", expected: "at most ${MAX_DEPTH} levels of nesting", received: "deeper nesting" }]
  within.push(v)
  try {
    return check(v, d, ctx)
  } finally {
    within.pop()
  }
}`,
  },
}

/**
 * The helpers a bundle may serve once for every phase module (see src/plugin/shared-helpers.ts): functions that keep
 * no state, so one copy behaves exactly as a copy per module. `deep` keeps the objects it is inside of, and stays.
 */
export const SHAREABLE_HELPERS: readonly string[] = ['describe', 'addReceived', 'add', 'literal', 'nest', 'key', 'collapse', 'closer']
