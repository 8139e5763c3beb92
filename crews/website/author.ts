// Writes crews/website/cassette.json, the transcript the website example replays without a key.
// It is authored with a scripted model that plays every item's agent (its model id says
// `scripted:website`). To record live instead: delete the cassette and run the example with
// TROUPE_RECORD=1 TROUPE_RECORD_MODEL=anthropic:claude-sonnet-5-5 and ANTHROPIC_API_KEY.
// Run: npm run build && node dist/crews/website/author.js
import { rmSync } from 'node:fs';
import type { ModelRequest } from 'troupe';
import { registerModel, reply, scriptedModel, type ScriptedReply } from 'troupe/testing';
import { pageHtmlV1, pageScriptV1, pageStylesV1 } from './graph.js';

const buttonV2 = `// Shared button component: every page renders its buttons with it.
// Variants: primary, secondary, danger. Classes follow BEM: btn btn--<variant>.
export const variants = ['primary', 'secondary', 'danger'];

export function renderButton({ label, variant = 'primary' }) {
  if (!variants.includes(variant)) throw new Error(\`unknown button variant "\${variant}"\`);
  return \`<button class="btn btn--\${variant}">\${label}</button>\`;
}
`;

const rename = (text: string) => text.replaceAll('btn-primary', 'btn--primary').replaceAll('btn-secondary', 'btn--secondary');
const stylesV2 = `${rename(pageStylesV1)}.btn--danger { background: #cf222e; color: white; }
`;

const update = (content: string, summary: string): ScriptedReply => reply.finish({ content, summary }, 'update_item');
const noChange = (reason: string): ScriptedReply => reply.finish({ reason }, 'no_change');

function answer(request: ModelRequest): ScriptedReply {
  const item = /You own the work item "([^"]+)"/.exec(request.system ?? '')?.[1];
  const last = request.messages.at(-1);
  const prompt = last?.role === 'user' ? last.content : '';
  const source = /^"([^"]+)", which your item depends on/.exec(prompt)?.[1];
  if (item === 'button' && prompt.startsWith('A person asks')) {
    return update(buttonV2, "Button classes are now BEM (btn--primary, btn--secondary) and there is a 'danger' variant; unknown variants throw.");
  }
  if (item === 'page-html' && source === 'button') {
    return update(rename(pageHtmlV1), 'The form buttons use the new BEM classes btn--primary and btn--secondary.');
  }
  if (item === 'page-script' && source === 'button') {
    return update(rename(pageScriptV1), 'Selects primary buttons by the new class .btn--primary; renderButton is called as before.');
  }
  if (item === 'page-styles' && source === 'button') {
    return update(stylesV2, 'Selectors renamed to .btn--primary and .btn--secondary; added .btn--danger.');
  }
  if (item === 'page-script' && source === 'page-html')
    return noChange('The page markup now uses the same classes this script already selects (.btn--primary).');
  if (item === 'page-styles' && source === 'page-html') return noChange('The markup uses btn--primary and btn--secondary, which the styles already define.');
  return noChange('Nothing in my file depends on this change.');
}

rmSync('crews/website/cassette.json', { force: true });
registerModel('website', scriptedModel(answer, { id: 'scripted:website' }));
process.env.TROUPE_RECORD = '1';
process.env.TROUPE_RECORD_MODEL = 'scripted:website';
delete process.env.ANTHROPIC_API_KEY;
const { runWebsite } = await import('./run.js');
const result = await runWebsite();
if (!result.items.every((item) => item.version >= 2)) throw new Error('authoring did not reach every page file');
