// Runs the built `poet` CLI (dist/cli.mjs) in a child process, as a shell would, without a token from the environment.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { PACKAGE_ROOT } from './project'

export const CLI_BIN = join(PACKAGE_ROOT, 'dist/cli.mjs')

export interface CliRun {
  /** The exit code; -1 when the run was killed at its timeout (a serve that wrongly starts, say). */
  code: number
  stdout: string
  stderr: string
}

export function runCli(cwd: string, argv: string[], options: { ci?: boolean; timeout?: number } = {}): Promise<CliRun> {
  const env = { ...process.env, CI: options.ci ? '1' : '', POET_TOKEN: '' }
  return new Promise((done) => {
    execFile(process.execPath, [CLI_BIN, ...argv], { cwd, env, timeout: options.timeout ?? 30_000, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr })
    })
  })
}
