#!/usr/bin/env node
// Entry point for `npx fleetops`: runs the TypeScript CLI through tsx (no build step needed).
// The pinned AWS SDK warns on Node 20 about future releases; fleetops pins its SDK version.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
require('../cli/main.ts');
