#!/usr/bin/env node
// The `poet` executable: runs the dispatcher with the process's arguments and exits with its code.
import { main } from './main'

// A reader that stops reading (`poet generate | head -1`) closes the pipe: stop there, quietly, with the status of a
// process SIGPIPE stops (128 + 13), as `seq` or `cat` would, rather than with Node's unhandled EPIPE and its stack.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e
    process.exit(141)
  })
}

process.exitCode = await main(process.argv.slice(2))
