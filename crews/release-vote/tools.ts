// The release vote's one tool: release_facts, the state of release 2.4 as the team's dashboards
// would report it (a fixture: tests, open bugs, flags, what is promised). The default export is
// what `troupe run release-vote` loads.
import { z } from 'zod';
import { defineTool, type Tool } from 'troupe';

export const releaseFacts = {
  release: '2.4',
  planned: 'Thursday',
  tests: { passed: 1412, failed: 0, flaky: 3 },
  openBugs: [
    {
      id: 'BUG-311',
      severity: 'P1',
      title: 'The new CSV export silently drops rows past 10,000 in Safari',
      feature: 'new-export',
      fix: 'in review; about 5 working days to fix and verify',
    },
    { id: 'BUG-318', severity: 'P3', title: 'A tooltip overlaps the date picker on narrow screens', feature: 'dashboard' },
  ],
  flags: { 'new-export': 'on by default; the old export is still shipped behind it', dashboard: 'on' },
  promised: 'The partner webinar on Thursday afternoon demos the new dashboard live on production.',
  support: 'About 30% of active accounts export CSV at least weekly; 12% of them use Safari.',
};

export const releaseFactsTool = defineTool({
  name: 'release_facts',
  description: 'The state of release 2.4: test results, open bugs, feature flags, what was promised, and how customers use the affected features.',
  input: z.object({}),
  sideEffects: 'read',
  run: () => releaseFacts,
});

export default function tools(): Tool[] {
  return [releaseFactsTool];
}
