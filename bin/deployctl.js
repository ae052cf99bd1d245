#!/usr/bin/env node
// Runs the TypeScript entry point without a build step (tsx transpiles on load).
require('tsx/cjs');
require('./deployctl.ts');
