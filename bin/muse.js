#!/usr/bin/env node
// Runs the TypeScript sources directly (no build step to forget); tsx compiles on load.
require('tsx/cjs/api').register();
require('../client/cli.ts');
