#!/usr/bin/env node
// The `flotilla` command. Everything it does is in dist/cli.js (built from cli/main.ts by `npm run build`).
import { main } from "../dist/cli.js";

const code = await main(process.argv.slice(2));
// Exit now rather than when the event loop empties: a job module may leave a timer or a shared pool
// open, and the command's work is done. (stdout and stderr are written synchronously to files, pipes
// and terminals on POSIX, so nothing printed is lost.)
process.exit(code);
