// Entry for running the CLI from sources (tests, development): `node --import tsx src/cli/main-entry.ts ...`.
import { main } from './main.js';
import { quietOnClosedPipe } from './io.js';

quietOnClosedPipe();
process.exitCode = await main(process.argv.slice(2));
