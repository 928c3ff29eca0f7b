#!/usr/bin/env node
// Entry point for `npx fleetops`: runs the compiled JavaScript (dist/, built by the setup step) when it
// is current, else the TypeScript sources through tsx (development: no build step needed).
// The pinned AWS SDK warns on Node 20 about future releases; fleetops pins its SDK version.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${require('../package.json').version}\n`);
  return;
}
const wantsHelp = args.includes('--help') || args.includes('-h');
if (args[0] === 'worker' && !wantsHelp && require('./worker-heap').launchWithBoundedHeap(__filename, args)) return;
const { buildIsCurrent, dist } = require('./compiled-build');
if (process.env.FLEETOPS_FROM_SOURCE !== '1' && buildIsCurrent()) {
  require(require('node:path').join(dist, 'cli', 'main.js'));
} else {
  // tsx's loader (as `node --import tsx`): require() and the commands' lazy import() of TypeScript
  import('tsx').then(() => require('../cli/main.ts'));
}
