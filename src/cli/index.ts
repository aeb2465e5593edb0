#!/usr/bin/env node
// The `poet` command.
console.log('poet: not yet')
