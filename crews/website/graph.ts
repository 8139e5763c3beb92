// A small website as a work graph: a shared UI component (a button) and the three files of a
// page that uses it. A change to the component flows to the page's markup, script and styles,
// each owned by its own agent, which decides whether its file must follow.
// Run once from its seed by `troupe run website`; loaded by `troupe worker --graph website` and
// `troupe chat button --graph website` (from dist/).
import { defaultModel, liveOrReplay } from 'troupe';
import type { WorkGraphDefinition } from 'troupe';

export const buttonV1 = `// Shared button component: every page renders its buttons with it.
export function renderButton({ label, variant = 'primary' }) {
  return \`<button class="btn btn-\${variant}">\${label}</button>\`;
}
`;

export const pageHtmlV1 = `<!doctype html>
<html>
  <head><link rel="stylesheet" href="page.css"></head>
  <body>
    <h1>Sign up</h1>
    <form id="signup">
      <input name="email" type="email">
      <button class="btn btn-primary" type="submit">Create account</button>
      <button class="btn btn-secondary" type="reset">Clear</button>
    </form>
    <script type="module" src="page.js"></script>
  </body>
</html>
`;

export const pageScriptV1 = `import { renderButton } from './button.js';

// Adds a "Log in instead" button under the form.
document.querySelector('#signup').insertAdjacentHTML('afterend', renderButton({ label: 'Log in instead', variant: 'secondary' }));
document.querySelectorAll('.btn-primary').forEach((button) => button.addEventListener('click', () => button.classList.add('is-busy')));
`;

export const pageStylesV1 = `.btn { padding: 0.5rem 1rem; border-radius: 4px; border: none; }
.btn-primary { background: #2f6feb; color: white; }
.btn-secondary { background: #eaeef2; color: #1f2328; }
`;

/** The request `troupe run website` sends to the button's agent: the one its cassette was recorded with. */
export const websiteRequest = "Rename the button classes to BEM style (btn--primary, btn--secondary) and add a 'danger' variant.";
export const example = { item: 'button', request: websiteRequest };

const instructions = 'You are a careful front-end engineer. Keep your file working and consistent with the files it depends on; change nothing else.';

export function websiteGraph(model: string): WorkGraphDefinition {
  return {
    name: 'website',
    model,
    items: [
      { id: 'button', description: 'button.js, the shared button component', instructions, content: buttonV1 },
      { id: 'page-html', description: 'page.html, the sign-up page markup', instructions, dependsOn: ['button'], content: pageHtmlV1 },
      { id: 'page-script', description: "page.js, the sign-up page's script", instructions, dependsOn: ['button', 'page-html'], content: pageScriptV1 },
      { id: 'page-styles', description: "page.css, the sign-up page's styles", instructions, dependsOn: ['button', 'page-html'], content: pageStylesV1 },
    ],
  };
}

/** The live model with a key; otherwise the recorded transcript (crews/website/cassette.json), saying so. */
export default function graph(): WorkGraphDefinition {
  return websiteGraph(liveOrReplay(defaultModel, 'crews/website/cassette.json'));
}
