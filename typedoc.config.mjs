// TypeDoc's configuration for the API reference (`npm run docs:api` writes HTML to docs/api/,
// which git ignores; docs/reference/api.md says what it covers). A .mjs file rather than
// typedoc.json for two reasons: the entry points are read from package.json's `exports`, so a new
// export is documented without a second list to keep in step; and this module is also the small
// TypeDoc plugin (`load` below) that names each module by its import path (`troupe/testing`)
// instead of its file name (`testing`, or `index` for the main entry point).
//
// test/docs/api-reference.test.ts runs TypeDoc with these options and fails on any warning.
import { readFileSync } from 'node:fs';
import { Converter, ReflectionKind } from 'typedoc';

const manifest = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

/**
 * The package's entry points, source file → import path: `./dist/src/testing.d.ts` under the
 * `./testing` export is `src/testing.ts`, imported as `troupe/testing`.
 */
export const entryPoints = Object.fromEntries(
  Object.entries(manifest.exports)
    .filter(([, target]) => typeof target === 'object' && target.types)
    .map(([subpath, target]) => [
      target.types.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts'),
      subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`,
    ]),
);

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: `${manifest.name} API`,
  entryPoints: Object.keys(entryPoints),
  // The build's program (src/ and what is compiled with it). Type errors are `npm run typecheck`'s
  // job: checking them again here would double the time of a run.
  tsconfig: 'tsconfig.build.json',
  skipErrorChecking: true,
  out: 'docs/api',
  readme: 'none',
  // No "Defined in" links: TypeDoc links sources only to a GitHub, GitLab or Bitbucket remote and
  // warns (an error here) in a clone whose origin is anything else, such as CI's clone of a local
  // path. The reference is read beside the checkout, where the sources are at hand.
  disableSources: true,
  plugin: ['./typedoc.config.mjs'],
  excludePrivate: true,
  excludeInternal: true,
  sort: ['kind', 'instance-first', 'alphabetical-ignoring-documents'],
  // Every warning is an error: a {@link} to nothing, a tag TypeDoc does not know (a typo such as
  // `@retuns`), and an exported symbol whose type names one the package does not export (the
  // reader would meet a name they cannot look up or import).
  treatWarningsAsErrors: true,
  validation: {
    invalidLink: true,
    notExported: true,
    rewrittenLink: true,
    unusedMergeModuleWith: true,
    // Not every export has a comment yet; requiring one would make this check fail on day one
    // rather than catch what breaks. Undocumented symbols still appear, with their types.
    notDocumented: false,
  },
  // Types the public API names without exporting them. Each is internal machinery a reader meets as
  // a property's type and never builds themselves; exporting them would widen the public API, which
  // is a decision of its own rather than a documentation fix. Their shape still shows where used.
  intentionallyNotExported: [
    // `Agent.tools`: the agent's tools by name; agents are made from a list of `Tool`s.
    'ToolSet',
    // `OpenJobQueueOptions.backend`: embedded or Redis, as `REDIS_URL` chooses.
    'Backend',
    // `ScriptContext.files`: a trigger's files, read lazily by name.
    'VirtualFiles',
    // `ServeWorkflowRunsOptions.workflow` returns one; a `Workflow` from `defineWorkflow` is one.
    'WorkflowGraph',
  ],
};

/** The TypeDoc plugin: renames each entry point's module after its import path. */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return;
    // From the module's symbol, not `reflection.sources`: sources are not gathered (disableSources).
    const symbol = context.getSymbolFromReflection(reflection);
    const source = symbol?.declarations?.[0]?.getSourceFile().fileName ?? '';
    const match = Object.entries(entryPoints).find(([file]) => source.endsWith(`/${file}`));
    if (match) reflection.name = match[1];
  });
}
