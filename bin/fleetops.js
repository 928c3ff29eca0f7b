#!/usr/bin/env node
// Entry point for `npx fleetops`: runs the TypeScript CLI through tsx (no build step needed).
require('tsx/cjs');
require('../cli/main.ts');
