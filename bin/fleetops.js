#!/usr/bin/env node
// Entry point for `npx fleetops`: runs the TypeScript CLI through tsx (no build step needed).
// The pinned AWS SDK warns on Node 20 about future releases; fleetops pins its SDK version.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const args = process.argv.slice(2);
const wantsHelp = args.includes('--help') || args.includes('-h');
if (args[0] === 'worker' && !wantsHelp && require('./worker-heap').launchWithBoundedHeap(__filename, args)) return;
require('tsx/cjs');
require('../cli/main.ts');
