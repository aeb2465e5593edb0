// Entry of the collector child process the load and crash tests start (bundled by esbuild): `poet serve` with argv.
import { serveCommand } from '../../src/train/commands'

process.exitCode = await serveCommand(process.argv.slice(2))
