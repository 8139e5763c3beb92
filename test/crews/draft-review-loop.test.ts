// The cyclic workflow example through the built CLI (`npm run build` first), as a user runs it.
import { describe, expect, it } from 'vitest';
import { checkDraft } from '../../crews/draft-review-loop/workflow.js';
import { exampleCli } from '../support/example-cli.js';

const troupe = exampleCli('draft-review-loop');

interface Transition {
  item: string;
  to: string;
  why: string;
  policy?: string;
  route?: string;
}

describe('crews/draft-review-loop', { timeout: 300_000 }, () => {
  it('runs offline: one note passes, one is sent back and fixed, one hits the loop limit and waits for a person', async () => {
    const result = await troupe('run', 'draft-review-loop', '--input', 'crews/draft-review-loop/changes.json', '--json');

    expect(result.stderr).toMatch(/no API key is set: replaying the recorded transcript crews\/draft-review-loop\/cassette.json/);
    expect(result.status).toBe(3); // an item waits for review
    const summary = JSON.parse(result.stdout) as {
      runId: string;
      status: string;
      counts: Record<string, number>;
      items: Array<{ id: string; state: string; outputs: { publish?: { markdown: string } } }>;
      reviews: Array<{ item: string; policy: string; findings: string[] }>;
    };
    expect(summary).toMatchObject({ status: 'awaiting-review', counts: { accepted: 2, 'awaiting-review': 1 } });
    const byId = Object.fromEntries(summary.items.map((item) => [item.id, item]));
    expect(byId['search-filters']!.state).toBe('accepted');
    expect(byId['offline-mode']!.state).toBe('accepted');
    expect(byId['offline-mode']!.outputs.publish!.markdown).toBe(
      '### Edit documents offline in the desktop app\n\nDocuments you open in the desktop app stay editable offline. Your edits sync when the connection returns; if someone else changed the same part meanwhile, both versions are kept.\n',
    );
    expect(summary.reviews).toEqual([expect.objectContaining({ item: 'sso-login', policy: 'loop.limit', findings: ['The check found: name "SAML".'] })]);

    // The run's record shows the loop taken: the send-backs with the check's problems, then the limit.
    const shown = await troupe('runs', 'show', summary.runId, '--json');
    expect(shown.status).toBe(0);
    const { transitions } = JSON.parse(shown.stdout) as { transitions: Transition[] };
    const loops = (id: string) => transitions.filter((t) => t.item === id && t.policy?.startsWith('loop.')).map((t) => `${t.policy}: ${t.why}`);
    expect(loops('search-filters')).toEqual([]);
    expect(loops('offline-mode')).toEqual([
      'loop.send-back: "check" sent the item back to "draft" (1 of 2): The check found: the body has 53 words; at most 45; do not write "seamless": say what changed instead; do not write "seamlessly": say what changed instead.',
    ]);
    expect(loops('sso-login')).toEqual([
      'loop.send-back: "check" sent the item back to "draft" (1 of 2): The check found: name "SAML"; name "Settings > Security".',
      'loop.send-back: "check" sent the item back to "draft" (2 of 2): The check found: name "SAML".',
      'loop.limit: "check" sent the item back to "draft" 2 times, the limit; decide what happens',
    ]);
  });

  it('a person decides the note that hit the limit with a corrected value, and the run goes on to publish it', async () => {
    const first = await troupe('run', 'draft-review-loop', '--input', 'crews/draft-review-loop/changes.json', '--json', '--quiet');
    const { reviews } = JSON.parse(first.stdout) as { reviews: Array<{ id: string }> };
    const corrected = {
      ok: true,
      problems: [],
      draft: {
        headline: 'Require single sign-on for your workspace',
        body: 'Admins can require SAML single sign-on through their identity provider, then turn off password sign-in in Settings > Security.',
      },
    };
    const decided = await troupe('review', 'approve', reviews[0]!.id, '--note', 'SAML named', '--value', JSON.stringify(corrected), '--resume', '--quiet');
    expect(decided.status).toBe(0);
    expect(decided.stdout).toMatch(/"check" takes your value as its output and item sso-login goes on/);
    expect(decided.stdout).toMatch(/draft-review-loop run \S+: done \(3 accepted\)/);
    expect(decided.stdout).toMatch(/sso-login\s+accepted\s+publish → \{"markdown":"### Require single sign-on for your workspace\\n\\nAdmins can require SAML/);
  });

  it('the check names every problem of a draft', () => {
    const change = { change: 'x', mustMention: ['SAML'] };
    expect(checkDraft({ headline: 'A seamless and truly revolutionary new way to sign in', body: 'Sign in.' }, change)).toMatchObject({
      ok: false,
      problems: [
        'the headline has 10 words; at most 8',
        'do not write "seamless": say what changed instead',
        'do not write "revolutionary": say what changed instead',
        'name "SAML"',
      ],
    });
    expect(checkDraft({ headline: 'SAML sign-in', body: 'Require SAML.' }, change)).toMatchObject({ ok: true, problems: [] });
  });
});
