import { describe, expect, it, vi } from 'vitest';
import { runWebsite } from '../../crews/website/run.js';

describe('crews/website', () => {
  it('replays offline: a change to the button component flows to the page files that use it', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', '');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const { answer, items, events } = await runWebsite();
      expect(answer).toMatch(/BEM/);
      const byId = Object.fromEntries(items.map((item) => [item.id, item]));
      expect(Object.fromEntries(items.map((item) => [item.id, item.version]))).toEqual({ button: 2, 'page-html': 2, 'page-script': 2, 'page-styles': 2 });
      expect(byId['button']!.content).toContain('btn--${variant}');
      for (const page of ['page-html', 'page-script', 'page-styles']) {
        expect(byId[page]!.content).toContain('btn--primary');
        expect(byId[page]!.content).not.toContain('btn-primary');
      }
      expect(byId['page-styles']!.content).toContain('.btn--danger');
      const outcomes = events.flatMap((event) => (event.type === 'notification-outcome' ? [`${event.source}→${event.item}: ${event.outcome}`] : []));
      expect(outcomes.sort()).toEqual([
        'button→page-html: updated',
        'button→page-script: updated',
        'button→page-styles: updated',
        'page-html→page-script: no-change',
        'page-html→page-styles: no-change',
      ]);
    } finally {
      log.mockRestore();
      vi.unstubAllEnvs();
    }
  });
});
