#!/usr/bin/env node
// The `poet` executable: runs the dispatcher with the process's arguments and exits with its code.
import { main } from './main'

process.exitCode = await main(process.argv.slice(2))
