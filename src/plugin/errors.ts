// Build errors the transform throws: a code, a message naming file:line:column, and a code frame under it.

/** Every build error the transform can throw, by code. */
export type PoetBuildErrorCode =
  | 'POET_PARSE_ERROR'
  | 'POET_NON_LITERAL_OPTION'
  | 'POET_UNKNOWN_OPTION'
  | 'POET_DUPLICATE_OPTION'
  | 'POET_INVALID_OPTION'
  | 'POET_UNKNOWN_DOMAIN'
  | 'POET_WRONG_IMPORT'
  | 'POET_TOO_MANY_ARGUMENTS'
  | 'POET_DECORATOR_NOT_CALLED'
  | 'POET_UNSUPPORTED_DECORATOR_TARGET'

/**
 * Where an error points. `line` is 1-based; `column` is 0-based, as babel counts it, except in what Rollup, Rolldown and
 * Vite are handed ({@link PoetBuildError.unframed}, {@link rollupLoc}).
 */
export interface SourceLocation {
  file: string
  line: number
  column: number
}

/**
 * A misuse of `poet(...)` found at build time. Thrown from the transform so the build fails; bundlers show
 * `message`, and Vite's overlay also reads `loc`, `frame` and `id`. Fields are plain and writable on purpose:
 * Rollup and Vite assign `id`, `plugin`, `code` and `hook` on errors thrown from a hook.
 */
export class PoetBuildError extends Error {
  override name = 'PoetBuildError'
  plugin = 'unplugin-poet'
  /** The file the error is in (Rollup's `RollupError.id`). */
  id: string
  /** Where the error is: its column 0-based, or 1-based in an error for Rollup, Rolldown and Vite ({@link unframed}). */
  readonly loc: SourceLocation
  constructor(
    readonly code: PoetBuildErrorCode,
    /** What is wrong, without the location (that is in `message`). */
    readonly reason: string,
    /** Where the error is, its column 0-based. */
    at: SourceLocation,
    readonly frame: string,
    /** Path shown in the message (relative to the project root). */
    readonly displayPath: string,
    /** For Rollup, Rolldown and Vite: no frame in `message`, and `loc` as they print it ({@link unframed}). */
    forRollup = false,
  ) {
    const header = `${displayPath}:${at.line}:${at.column + 1}: ${reason} [${code}]`
    super(forRollup ? header : `${header}\n\n${frame}`)
    this.loc = forRollup ? rollupLoc(at) : at
    this.id = at.file
    // Every bundler prints the stack under the message: the plugin's own frames, nine lines that say nothing about
    // the mistake the message and frame point at. Rollup and webpack find the message in it by this exact form.
    this.stack = `${this.name}: ${this.message}\n`
  }

  /**
   * This error for Rollup, Rolldown and Vite, which print `frame` under the message (terminal and overlay alike):
   * with the frame in the message too, every frame showed twice. They print `loc` too, beside the message.
   */
  unframed(): PoetBuildError {
    return new PoetBuildError(this.code, this.reason, this.loc, this.frame, this.displayPath, true)
  }

  /**
   * This error as a plain `Error`, for webpack: its persistent cache stores a failed module's error, and has
   * serializers for the built-in error classes only, so a subclass added "No serializer registered for
   * PoetBuildError" to every failed build. The fields stay; the stack still names it.
   */
  plain(): Error {
    const e = new Error(this.message)
    e.stack = this.stack
    return Object.assign(e, { name: this.name, code: this.code, reason: this.reason, loc: this.loc, frame: this.frame, id: this.id, plugin: this.plugin })
  }
}

/**
 * A few lines of `source` around `line`, numbered, with a `>` on that line and a caret under `column` (0-based).
 * Tabs before the column are kept in the caret line so the caret lines up in any editor or terminal.
 */
export function codeFrame(source: string, line: number, column: number, context = 2): string {
  // The line terminators babel counts lines by (as JavaScript and tsc do), U+2028 and U+2029 included.
  const lines = source.split(/\r\n|[\r\n\u2028\u2029]/)
  // A final newline does not make a line worth showing, unless the error is there (a parse error at the end).
  if (lines.length > 1 && lines[lines.length - 1] === '' && line < lines.length) lines.pop()
  const first = Math.max(1, line - context)
  const last = Math.min(lines.length, line + context)
  const width = String(last).length
  const out: string[] = []
  for (let n = first; n <= last; n++) {
    const text = lines[n - 1]!
    const gutter = String(n).padStart(width)
    out.push(`${n === line ? '>' : ' '} ${gutter} |${text ? ' ' + text : ''}`)
    if (n === line) {
      const lead = text.slice(0, column).replace(/[^\t]/g, ' ')
      out.push(`  ${' '.repeat(width)} | ${lead}^`)
    }
  }
  return out.join('\n')
}

/** Everything needed to point an error at a place in one file. */
export interface ErrorSite {
  /** Absolute path of the file. */
  file: string
  /** Path shown in messages: relative to the project root, posix. */
  displayPath: string
  /** The file's source, for the code frame. */
  code: string
}

/**
 * `loc` as Rollup, Rolldown and Vite are handed it: its column 1-based, as in every message. They print it beside the
 * message, as `path:line:column` (Rolldown, Vite's terminal, overlay and its open-in-editor link, Vitest) or
 * `path (line:column)` (Rollup), and a 0-based column there read one less than the message's, and led an editor to
 * the character before the one the frame's caret is under.
 */
export function rollupLoc(loc: SourceLocation): SourceLocation {
  return { ...loc, column: loc.column + 1 }
}

/** Builds a PoetBuildError at a babel position (`line` 1-based, `column` 0-based). */
export function buildError(
  site: ErrorSite,
  code: PoetBuildErrorCode,
  reason: string,
  at: { line: number; column: number },
): PoetBuildError {
  return new PoetBuildError(
    code,
    reason,
    { file: site.file, line: at.line, column: at.column },
    codeFrame(site.code, at.line, at.column),
    site.displayPath,
  )
}

/** A wrong plugin option (`poet({...})` in the bundler config): names the option path and what it expects. */
export class PoetConfigError extends Error {
  override name = 'PoetConfigError'
  readonly plugin = 'unplugin-poet'
  readonly code: 'POET_INVALID_PLUGIN_OPTION' | 'POET_UNKNOWN_PLUGIN_OPTION'
  constructor(
    /** Dotted path of the offending option, e.g. `generator.model`. */
    readonly option: string,
    reason: string,
    unknown = false,
  ) {
    super(
      unknown
        ? `unplugin-poet: unknown plugin option '${option}'.${reason}`
        : `unplugin-poet: invalid plugin option '${option}': ${reason}`,
    )
    this.code = unknown ? 'POET_UNKNOWN_PLUGIN_OPTION' : 'POET_INVALID_PLUGIN_OPTION'
  }
}

/**
 * Where a transform warning points, apart from its message (which starts with `path:line:column: `): Rollup and
 * Rolldown print a warning's place themselves from `loc`, so they get the reason alone.
 */
export interface WarningSite {
  /** The warning without its place. */
  reason: string
  loc: SourceLocation
  frame: string
}

/** A warning at a babel position (`line` 1-based, `column` 0-based): its message, and its site for {@link WarningSite} readers. */
export function warningAt(site: ErrorSite, reason: string, at: { line: number; column: number }): [string, WarningSite] {
  return [
    `${site.displayPath}:${at.line}:${at.column + 1}: ${reason}`,
    { reason, loc: { file: site.file, line: at.line, column: at.column }, frame: codeFrame(site.code, at.line, at.column) },
  ]
}
