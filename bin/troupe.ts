#!/usr/bin/env node
// The `troupe` command: the CLI layer's commands plus those of the layer above it (the dashboard).
// It lives outside src/ because it assembles every layer.
import { endQuietlyOnClosedStdout, main } from '../src/cli/main.js';
import { registerDashboard } from '../src/dashboard/command.js';

endQuietlyOnClosedStdout();
process.exitCode = await main(process.argv.slice(2), [registerDashboard]);
