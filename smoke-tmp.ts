import { loadJobFile } from "./cli/job-file/index.ts";
try { await loadJobFile(process.argv[2]!); console.log("loaded") } catch (e) { console.log(e.message); console.log(e.code, e.problems.length) }
