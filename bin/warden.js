#!/usr/bin/env -S node --max-semi-space-size=8
// --max-semi-space-size=8 (MB, also in `npm start` and docs/deploy/warden.service): see README, Deployment, Memory.
// Thin launcher: the compiled CLI lives in dist/ (run `npm run build` first; `npm start` does it).
import { runCli } from '../dist/src/cli/warden.js';

process.exitCode = await runCli(process.argv.slice(2));
