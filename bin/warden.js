#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (run `npm run build` first; `npm start` does it).
import { runCli } from '../dist/src/cli/warden.js';

process.exitCode = await runCli(process.argv.slice(2));
