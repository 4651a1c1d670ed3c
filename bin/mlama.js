#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';
import { quietOnClosedPipe } from '../dist/src/cli/io.js';

quietOnClosedPipe();
process.exitCode = await main(process.argv.slice(2));
