// README.md as a user copies it: its TypeScript and JavaScript snippets type-check against the packed package (the Vue
// one is left to the component tests), its quick start builds and throws what the introduction shows, each `poet`
// command line and flag it writes is one the CLI takes, its options tables list exactly the options the types export,
// and the build error codes it lists are the ones the plugin throws.
import { execFile, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, posix } from 'node:path'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PACKAGE_ROOT } from './helpers/project'
import { CONSUMER_OPTIONS, typeCheck } from './helpers/typecheck'

const README = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8')
const BIN = join(PACKAGE_ROOT, 'dist/cli.mjs')
const COMMANDS = ['generate', 'status', 'diff', 'domains', 'serve', 'train', 'rollback'] as const

interface Snippet {
  /** Line of README where the block starts, for messages. */
  line: number
  lang: string
  /** The path its first-line comment names (`// vite.config.ts (…)` → vite.config.ts), else one made up. */
  file: string
  code: string
}

const lineOf = (index: number) => README.slice(0, index).split('\n').length

const snippets: Snippet[] = [...README.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => {
  const line = lineOf(m.index)
  const named = /^\/\/ ([\w./-]+\.[cm]?[jt]s)\b/.exec(m[2]!)?.[1]
  return { line, lang: m[1]!, file: named ?? `snippet.${m[1]}`, code: m[2]! }
})

/** A sketch elides code (`…`, `/* your code *\/`): it cannot compile, but every name it uses must exist. */
const isSketch = (s: Snippet) => /…|\/\* your code \*\//.test(s.code)

/** Every `poet <command> …` README writes, in code spans and in code blocks, with the line it is on. */
function commandLines(): { line: number; command: string; args: string[] }[] {
  const found: { line: number; command: string; args: string[] }[] = []
  const spans = [...README.matchAll(/`([^`\n]+)`/g)].map((m) => ({ text: m[1]!, index: m.index }))
  const blockLines = [...README.matchAll(/^```\w*\n([\s\S]*?)^```$/gm)].flatMap((m) => {
    const start = lineOf(m.index) + 1
    return m[1]!.split('\n').map((text, i) => ({ text, line: start + i }))
  })
  const all = [...spans.map((s) => ({ text: s.text, line: lineOf(s.index) })), ...blockLines]
  for (const { text, line } of all) {
    // A command line starts the span or the line (`import poet from …` is no command).
    const m = /^(?:npx )?poet ([a-z]+)(.*)$/.exec(text.trim())
    if (!m) continue
    // The synopsis block pads its description after two spaces, and a shell comment ends the command: what follows is prose.
    const args = m[2]!.split(/ {2,}|#/)[0]!.match(/(?<![\w-])--[a-z][a-z-]*/g) ?? []
    found.push({ line, command: m[1]!, args })
  }
  return found
}

interface Run {
  code: number
  stdout: string
  stderr: string
}

function poet(argv: string[]): Promise<Run> {
  return new Promise((done) => {
    // A command that wrongly starts (serve) is killed rather than left to hang the test; its code is then -1.
    execFile(process.execPath, [BIN, ...argv], { cwd: PACKAGE_ROOT, env: { ...process.env, CI: '', POET_TOKEN: '' }, timeout: 20_000, killSignal: 'SIGKILL' }, (error, stdout, stderr) =>
      done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    )
  })
}

/** A consumer project with the package as npm publishes it (its `files`), not the worktree: a type the tarball lacks fails here. */
let dir: string
beforeAll(() => {
  mkdirSync(join(PACKAGE_ROOT, 'test/.tmp'), { recursive: true })
  dir = mkdtempSync(join(PACKAGE_ROOT, 'test/.tmp/readme-'))
  const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: PACKAGE_ROOT, encoding: 'utf8' }).trim().split('\n').at(-1)!
  mkdirSync(join(dir, 'node_modules/unplugin-poet'), { recursive: true })
  execFileSync('tar', ['xzf', join(dir, tarball), '-C', join(dir, 'node_modules/unplugin-poet'), '--strip-components=1'])
}, 60_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('README snippets', () => {
  const checked = new Map<Snippet, string[]>()
  let bad: string[] = []

  beforeAll(() => {
    const files: string[] = []
    const owner = new Map<string, Snippet>()
    const write = (rel: string, code: string) => {
      mkdirSync(dirname(join(dir, rel)), { recursive: true })
      writeFileSync(join(dir, rel), code)
      files.push(join(dir, rel))
    }
    for (const [i, s] of snippets.entries()) {
      if (s.lang !== 'ts' && s.lang !== 'js') continue
      // Each snippet in a directory of its own, with the earlier snippets it imports by relative path (vite.config.ts → ./poet.config.mjs).
      const home = `L${s.line}`
      for (const spec of s.code.matchAll(/from '(\.\/[^']+)'/g)) {
        const wanted = posix.normalize(spec[1]!)
        const earlier = snippets.slice(0, i).findLast((e) => e.file === wanted)
        if (earlier && !isSketch(earlier)) {
          write(`${home}/${earlier.file}`, earlier.code)
          owner.set(join(dir, home, earlier.file), earlier)
        }
      }
      if (isSketch(s)) {
        // The names a sketch imports or calls at the start of a line (`onEvent((event) => …)`) are the runtime's exports.
        const imported = [...s.code.matchAll(/import \{([^}]+)\} from '([^']+)'/g)].map((m) => `import {${m[1]}} from '${m[2]}'`)
        const own = new Set([...s.code.matchAll(/\b(?:const|let|function|class|interface|type) (\w+)/g)].map((m) => m[1]!))
        const called = [...new Set([...s.code.matchAll(/^@?(\w+)\(/gm)].map((m) => m[1]!))].filter((n) => !own.has(n))
        const code = [...imported, `export { ${called.join(', ')} } from 'unplugin-poet/runtime'`, ''].join('\n')
        write(`${home}/names.ts`, code)
        owner.set(join(dir, home, 'names.ts'), s)
        continue
      }
      // A config's default export must be a config of that bundler, unknown keys included (`satisfies`, not an assignment).
      let code = s.code
      if (/(^|\/)vite\.config\.ts$/.test(s.file)) {
        code = `import type { UserConfig } from 'vite'\n${s.code.replace(/^export default (\{[\s\S]*\})\s*$/m, 'export default ($1) satisfies UserConfig\n')}`
        if (!code.includes('satisfies')) throw new Error(`README.md:${s.line}: a vite.config.ts whose default export is not an object literal; check it another way`)
      }
      write(`${home}/${s.file}`, code)
      owner.set(join(dir, home, s.file), s)
    }
    // A snippet with a misspelled option, checked the same way in the same program, must fail.
    write('bad/vite.config.ts', "import type { UserConfig } from 'vite'\nimport poet from 'unplugin-poet/vite'\nexport default ({ plugins: [poet({ lockdir: '.poet' })], bulid: {} }) satisfies UserConfig\n")
    const diagnostics = typeCheck(files, { ...CONSUMER_OPTIONS, allowJs: true, checkJs: true })
    bad = diagnostics.get(join(dir, 'bad/vite.config.ts'))!
    for (const [file, list] of diagnostics) {
      const s = owner.get(file)
      if (s) checked.set(s, [...(checked.get(s) ?? []), ...list])
    }
  }, 60_000)

  it('type-check against the published types, in a strict consumer project (sketches: the names they use exist)', () => {
    // The quick start, the setup, the library config, the API overview, poet.config.mjs and the config importing it.
    expect(checked.size).toBeGreaterThanOrEqual(7)
    for (const [s, errors] of checked) expect(errors, `README.md:${s.line} (${s.file})`).toEqual([])
  })

  it('would catch a wrong option of the plugin or of the bundler', () => {
    expect(bad).toEqual([expect.stringContaining("'lockdir' does not exist"), expect.stringContaining("'bulid' does not exist")])
  })
})

describe('README quick start', () => {
  it('builds as written, and priceOrder with a string price throws the PoetInputError the introduction shows', async () => {
    const quick = README.slice(README.indexOf('## Quick start'), README.indexOf('## Levels'))
    const blocks = snippets.filter((s) => s.lang === 'ts' && quick.includes(s.code))
    expect(blocks.map((s) => s.file)).toEqual(['vite.config.ts', 'src/orders.ts'])
    const app = join(dir, 'quick-start')
    for (const s of blocks) {
      mkdirSync(dirname(join(app, s.file)), { recursive: true })
      writeFileSync(join(app, s.file), s.code)
    }
    // "Import priceOrder where your app uses it": an entry that calls it with the body of the introduction.
    writeFileSync(
      join(app, 'src/main.ts'),
      "import { priceOrder } from './orders'\n" +
        'const body = \'{"currency":"EUR","items":[{"sku":"a","price":2,"quantity":1},{"sku":"b","price":"3","quantity":1}]}\'\n' +
        'try { priceOrder(JSON.parse(body)) } catch (e) { console.log(`${(e as Error).name}: ${(e as Error).message}`) }\n',
    )
    const { build } = await import('vite')
    await build({ root: app, configFile: join(app, 'vite.config.ts'), logLevel: 'silent', build: { ssr: 'src/main.ts', outDir: 'dist' } })
    const printed = execFileSync(process.execPath, [join(app, 'dist/main.js')], { encoding: 'utf8' })
    // The introduction's comment, as the error prints.
    const intro = README.slice(0, README.indexOf('## Quick start'))
    const shown = /^\/\/ (PoetInputError: [\s\S]*?)\n```/m.exec(intro)![1]!.split('\n').map((l) => l.replace(/^\/\/ ?/, '')).join('\n')
    expect(printed).toBe(`${shown}\n`)
    const lock = JSON.parse(readFileSync(join(app, '.poet/lock.json'), 'utf8')) as { functions: Record<string, unknown> }
    expect(Object.keys(lock.functions)).toEqual(['src/orders.ts#priceOrder'])
  })
})

describe('README command lines', () => {
  const lines = commandLines()
  const helps = new Map<string, Promise<Run>>()
  const help = (command: string) => helps.get(command) ?? helps.set(command, poet([command, '--help'])).get(command)!

  it('name only commands the CLI has', () => {
    expect(lines.length).toBeGreaterThan(20)
    for (const { line, command } of lines) expect(['help', ...COMMANDS], `README.md:${line}: poet ${command}`).toContain(command)
  })

  it("use only flags the command's --help lists and its parser accepts", async () => {
    const pairs = [...new Set(lines.filter((l) => l.command !== 'help').flatMap((l) => l.args.map((a) => `${l.command} ${a}`)))]
    expect(pairs).toEqual(expect.arrayContaining(['generate --check', 'train --apply', 'rollback --to', 'serve --token']))
    const results: { pair: string; flag: string; help: string; run: Run }[] = []
    // Four processes at a time: CI is a shared 2-core machine, and each is a Node start.
    for (let i = 0; i < pairs.length; i += 4) {
      const batch = pairs.slice(i, i + 4).map(async (pair) => {
        const [command, flag] = pair.split(' ') as [string, string]
        // The flag, then an unknown one: the parser gets past the first (or asks for its value) without calling it unknown.
        return { pair, flag, help: (await help(command)).stdout, run: await poet([command, flag, '--zzz-not-an-option']) }
      })
      results.push(...(await Promise.all(batch)))
    }
    for (const { pair, flag, help, run } of results) {
      expect(help, `poet ${pair} (README) is not in its --help`).toMatch(new RegExp(`(?<![\\w-])${flag}(?![\\w-])`))
      expect(run.code, `poet ${pair}: ${run.stderr}`).toBe(2)
      expect(run.stderr, `poet ${pair}`).not.toContain(`unknown option ${flag}.`)
    }
  }, 180_000)

  it('mention no flag that no command takes', async () => {
    const everywhere = (await Promise.all(COMMANDS.map(help))).map((r) => r.stdout).join('\n') + (await poet(['--help'])).stdout
    const flags = [...new Set(README.match(/(?<![\w-])--[a-z][a-z-]*/g))]
    expect(flags.length).toBeGreaterThan(10)
    for (const flag of flags) expect(everywhere, `${flag} (README) is in no command's --help`).toMatch(new RegExp(`(?<![\\w-])${flag}(?![\\w-])`))
  })
})

/** The rows of the first table after `heading`: key names (the backticked words of the first cell), the meaning and the default column. */
function optionsTable(heading: string): { keys: string[]; meaning: string; default: string }[] {
  const lines = README.split('\n')
  const at = lines.indexOf(heading)
  expect(at, heading).toBeGreaterThan(-1)
  const first = lines.findIndex((l, i) => i > at && l.startsWith('| '))
  const end = lines.findIndex((l, i) => i > first && !l.startsWith('|'))
  // Past the header row and the --- row; a default is the last cell, and no cell of these tables holds a `|`.
  return lines.slice(first + 2, end).map((row) => {
    const cells = row.slice(2, -2).split(' | ')
    return { keys: [...cells[0]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!), meaning: cells[1]!, default: cells.at(-1)! }
  })
}

interface Declared {
  /** The `@default` text of its JSDoc. */
  default: string | undefined
  /** The keys of the object it takes (`generator: 'builtin' | { provider, model, … }` → provider, model, …). */
  nested: string[]
}

/** An exported interface of the packed package's types: its keys, each with its `@default` text and nested keys. */
function declared(entry: string, name: string): Map<string, Declared> {
  const file = join(dir, `types-${name}.ts`)
  writeFileSync(file, `import type { ${name} } from '${entry}'\nexport type T = ${name}\n`)
  const program = ts.createProgram([file], CONSUMER_OPTIONS)
  const checker = program.getTypeChecker()
  const alias = program.getSourceFile(file)!.statements.find(ts.isTypeAliasDeclaration)!
  return new Map(
    checker.getTypeAtLocation(alias.name).getProperties().map((p) => {
      const tag = p.getJsDocTags(checker).find((t) => t.name === 'default')
      const type = checker.getTypeOfSymbol(p)
      const object = (type.isUnion() ? type.types : [type]).find((t) => t.flags & ts.TypeFlags.Object)
      return [p.name, { default: tag?.text?.map((t) => t.text).join(''), nested: object ? object.getProperties().map((n) => n.name) : [] }]
    }),
  )
}

/** A quoted string, not an apostrophe (`the domain's, else 'any'`). */
const QUOTED = /(?<!\w)'([^']*)'(?!\w)/g

/** The numbers and booleans a default names, outside quoted strings. */
const bare = (text: string) => [...text.replace(QUOTED, '').matchAll(/(?<![\w.])(\d+(?:\.\d+)?|true|false)(?![\w.])/g)].map((m) => m[1]!)

/** The literals a default names: numbers, booleans and quoted strings (`'builtin'` → builtin). */
const literals = (text: string) => [...[...text.matchAll(QUOTED)].map((m) => m[1]!), ...bare(text)]

describe('README options tables', () => {
  it.each([
    ['### Options', 'unplugin-poet/runtime', 'PoetOptions'],
    ['## Plugin options', 'unplugin-poet', 'Options'],
  ])('%s lists exactly the keys of %s’s %s, with the keys of its nested objects and the defaults its JSDoc states', (heading, entry, name) => {
    const rows = optionsTable(heading)
    const types = declared(entry, name)
    expect(rows.flatMap((r) => r.keys).sort(), `${heading} against ${name}`).toEqual([...types.keys()].sort())
    for (const row of rows) {
      for (const key of row.keys) {
        const jsdoc = types.get(key)?.default ?? ''
        // An object README spells out (`{ endpoint?, sample? }`) has exactly the keys of the type's.
        for (const shape of row.meaning.matchAll(/`\{ ([^`]*) \}`/g)) {
          const keys = shape[1]!.split(', ').map((k) => k.replace(/[?:].*$/, ''))
          expect(keys.sort(), `${name}.${key}: README's { ${shape[1]} }`).toEqual([...types.get(key)!.nested].sort())
        }
        // Every literal the type's @default names is in README's cell, and every number or boolean README's cell names is in @default.
        const cell = [...[...row.default.matchAll(/`'?([^`']*)'?`/g)].map((m) => m[1]!), ...bare(row.default)]
        for (const literal of literals(jsdoc)) expect(cell, `${name}.${key}: README's default "${row.default}" lacks ${literal} (@default ${jsdoc})`).toContain(literal)
        for (const literal of bare(row.default)) expect(literals(jsdoc), `${name}.${key}: README's default "${row.default}" against @default ${jsdoc}`).toContain(literal)
      }
    }
  })
})

describe('README build errors', () => {
  it('name exactly the codes the plugin throws, each one in the built code', () => {
    // `$POET_TOKEN` is a variable, not a code.
    const documented = [...new Set(README.match(/(?<!\$)\bPOET_[A-Z_]+\b/g))].sort()
    // The codes as the error classes declare them: PoetBuildError's union and PoetConfigError's.
    const source = readFileSync(join(PACKAGE_ROOT, 'src/plugin/errors.ts'), 'utf8')
    const declaredCodes = [...new Set(source.match(/'POET_[A-Z_]+'/g)!.map((c) => c.slice(1, -1)))].sort()
    expect(declaredCodes.length).toBeGreaterThan(10)
    expect(documented).toEqual(declaredCodes)
    const built = readdirSync(join(PACKAGE_ROOT, 'dist'))
      .filter((f) => f.endsWith('.mjs'))
      .map((f) => readFileSync(join(PACKAGE_ROOT, 'dist', f), 'utf8'))
      .join('\n')
    for (const code of documented) expect(built, code).toMatch(new RegExp(`["']${code}["']`))
  })
})
