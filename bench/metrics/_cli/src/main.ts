import { buildProgram } from "./program.js";

process.exitCode = await buildProgram().run(process.argv.slice(2));
