// One change across several repositories, with a fixed entry: from a requirement an agent
// proposes the repositories it touches, a person confirms or edits that set, an agent edits each
// repository with tools confined to it and runs its checks, code runs each repository's checks
// again and commits the change on a branch, and one combined summary (Markdown and JSON) is written.
//
//   propose-repos (agent) → confirm-repos (a person) → change-repos (an agent per repository; checks) → summarize
//
// `npx troupe run multi-repo-change --input crews/multi-repo-change/requirements.json` stops at the
// person's review (exit 3); `npx troupe review approve <id> --resume` confirms the proposed set, or
// `--value '{"repos":["invoice-format","billing-api","web-shop"]}'` changes it. Offline on
// crews/multi-repo-change/cassette.json without an API key. The repositories are made under
// MULTI_REPO_WORKDIR, default <TROUPE_HOME or .troupe>/workspaces/multi-repo-change/<item>/.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { Agent, agentTask, codeTask, defaultModel, defineTool, defineWorkflow, deriveRunContext, humanTask, ItemRejectedError, maxTurns } from 'troupe';
import { checkOut, describeRepositories, git, repositoryName, repositoryNames, repositoryTools, runChecks, workRoot } from './repositories.js';

export const requirementSchema = z.object({ requirement: z.string().min(10).describe('The change to make, in words') });
export type Requirement = z.infer<typeof requirementSchema>;

const proposalSchema = z.object({
  repos: z.array(z.object({ name: repositoryName, why: z.string().min(1).describe('Why this repository must change') })).min(1),
});

/** What the person is shown: the requirement and the proposed set with the reasons. Approving it as is keeps `repos`. */
const confirmationSchema = z.object({ requirement: z.string(), repos: z.array(repositoryName).min(1), reasons: z.array(z.string()) });
/** What the person decides: the set to change (`--value '{"repos":[...]}'` to edit it). */
export const confirmedSchema = z.object({ repos: z.array(repositoryName).min(1) });

const repositoryChange = z.object({
  repo: repositoryName,
  /** `changed`: edited, its checks pass; `checks-fail`: edited, its checks fail; `unchanged`: nothing edited; `agent-stopped`: the agent ran out of turns. */
  status: z.enum(['changed', 'checks-fail', 'unchanged', 'agent-stopped']),
  summary: z.string(),
  branch: z.string(),
  files: z.array(z.string()),
  diff: z.string(),
  /** What the agent's own check runs reported, in order: a failure it then fixed shows here. */
  agentCheckRuns: z.array(z.object({ passed: z.number(), failed: z.number(), report: z.string() })),
  /** The checks code ran after the agent finished: these decide the status. */
  checks: z.object({ passed: z.number(), failed: z.number(), report: z.string(), limitations: z.array(z.string()) }),
});
export type RepositoryChange = z.infer<typeof repositoryChange>;

const changesSchema = z.object({ requirement: z.string(), workdir: z.string(), changes: z.array(repositoryChange) });
type Changes = z.infer<typeof changesSchema>;

const listRepositories = defineTool({
  name: 'list_repositories',
  description: 'Lists the organisation’s repositories, each with the first line of its README.',
  input: z.object({}),
  sideEffects: 'read',
  run: () => describeRepositories(),
});

const scout = new Agent({
  name: 'repo-scout',
  role: 'a staff engineer who knows which repositories a change touches',
  goal: 'Propose the repositories a requirement must change, each with a reason. Propose only what the requirement needs.',
  tools: [listRepositories],
  output: proposalSchema,
  model: defaultModel,
  termination: maxTurns(6),
});

const proposeRepos = agentTask({
  name: 'propose-repos',
  stage: 'proposed',
  input: requirementSchema,
  output: proposalSchema,
  agent: scout,
  prompt: ({ requirement }) => `Requirement: ${requirement}\n\nWhich repositories must change? List them first.`,
  policy: { invalidOutput: { maxRetries: 1, then: 'review' } },
});

const confirmRepos = humanTask({
  name: 'confirm-repos',
  stage: 'confirmed',
  input: confirmationSchema,
  output: confirmedSchema,
  question: ({ requirement, repos, reasons }) =>
    `Change these repositories for "${requirement}"?\n${reasons.map((reason) => `- ${reason}`).join('\n')}\n` +
    `Other repositories: ${repositoryNames.filter((name) => !repos.includes(name)).join(', ') || 'none'}.\n` +
    `Approve as proposed, or approve with --value '{"repos":[...]}' to change the set.`,
});

function editorPrompt(requirement: string, repo: string): string {
  return `Requirement: ${requirement}
Repository: ${repo}

Make the change this repository needs, and only that. Read the files before you change them.
Run the checks with run_checks after editing; when they fail, read the failure, fix it and run them again.
Finish with a short summary of what you changed and what the checks said.`;
}

const changeRepos = codeTask({
  name: 'change-repos',
  stage: 'changed',
  input: z.object({ requirement: z.string(), repos: z.array(repositoryName).min(1) }),
  output: changesSchema,
  // It makes repositories and commits in them; a repeat of the step makes each one again from its fixture.
  sideEffects: 'write',
  run: async ({ requirement, repos }, context): Promise<Changes> => {
    const workdir = join(workRoot(), context.itemId);
    const branch = `change/${context.itemId}`;
    const changes: RepositoryChange[] = [];
    for (const repo of [...new Set(repos)]) {
      const root = join(workdir, repo);
      await checkOut(repo, root);
      await git(root, 'checkout', '-q', '-b', branch);
      // A new agent per repository: its tools reach this repository only.
      const { tools, checkRuns } = repositoryTools(root);
      const editor = new Agent({
        name: `editor-${repo}`,
        role: 'a careful software engineer',
        goal: 'Make one requirement’s change in one repository, and leave its checks passing.',
        tools,
        output: z.object({ summary: z.string().min(1) }),
        model: defaultModel,
        termination: maxTurns(16),
      });
      const result = await editor.run(editorPrompt(requirement, repo), deriveRunContext(context));
      const files = (await git(root, 'status', '--porcelain'))
        .split('\n')
        .filter(Boolean)
        .map((line) => line.slice(3));
      const checks = await runChecks(root, context.signal);
      let diff = '';
      if (files.length > 0) {
        await git(root, 'add', '-A');
        diff = await git(root, 'diff', '--cached', '--no-color');
        await git(root, 'commit', '-q', '-m', requirement);
      }
      const status = result.status !== 'finished' ? 'agent-stopped' : files.length === 0 ? 'unchanged' : checks.failed > 0 ? 'checks-fail' : 'changed';
      changes.push({
        repo,
        status,
        summary: result.status === 'finished' ? result.output.summary : `the agent stopped: ${result.stop.reason}`,
        branch,
        files,
        diff,
        agentCheckRuns: checkRuns.map(({ passed, failed, report }) => ({ passed, failed, report })),
        checks,
      });
    }
    return { requirement, workdir, changes };
  },
});

const summarize = codeTask({
  name: 'summarize',
  stage: 'summarized',
  input: changesSchema,
  output: z.object({ markdown: z.string(), json: z.string(), ok: z.boolean() }),
  sideEffects: 'write',
  run: async (changes) => {
    const markdown = join(changes.workdir, 'CHANGE-SUMMARY.md');
    const json = join(changes.workdir, 'CHANGE-SUMMARY.json');
    const ok = changes.changes.every((change) => change.status === 'changed');
    await writeFile(markdown, renderSummary(changes));
    await writeFile(json, `${JSON.stringify({ ok, ...changes }, null, 2)}\n`);
    if (!ok) {
      const failing = changes.changes.filter((change) => change.status !== 'changed').map((change) => `${change.repo} (${change.status})`);
      throw new ItemRejectedError(`the change is not complete: ${failing.join(', ')}; see ${markdown}`);
    }
    return { markdown, json, ok };
  },
});

/** The combined change summary, in Markdown. */
export function renderSummary(changes: Changes): string {
  const lines = [`# Change: ${changes.requirement}`, '', '| Repository | Status | Files | Checks |', '| --- | --- | --- | --- |'];
  for (const change of changes.changes)
    lines.push(`| ${change.repo} | ${change.status} | ${change.files.join(', ') || '—'} | ${change.checks.passed} passed, ${change.checks.failed} failed |`);
  for (const change of changes.changes) {
    lines.push('', `## ${change.repo}`, '', `Branch \`${change.branch}\` in ${join(changes.workdir, change.repo)}.`, '', change.summary, '');
    if (change.agentCheckRuns.length > 0) {
      lines.push(
        `Check runs by the agent: ${change.agentCheckRuns.map((run) => (run.failed > 0 ? `${run.failed} failed` : `${run.passed} passed`)).join(' → ')}.`,
      );
      const failure = change.agentCheckRuns.find((run) => run.failed > 0);
      if (failure) lines.push('', 'First failure:', '', '```', failure.report, '```');
    }
    lines.push('', `Checks after the change: ${change.checks.passed} passed, ${change.checks.failed} failed.`);
    for (const limitation of change.checks.limitations) lines.push(`Not sandboxed here: ${limitation}.`);
    if (change.diff) lines.push('', '```diff', change.diff.trimEnd(), '```');
  }
  return `${lines.join('\n')}\n`;
}

export default defineWorkflow({
  name: 'multi-repo-change',
  input: requirementSchema,
  tasks: [proposeRepos, confirmRepos, changeRepos, summarize],
  edges: [
    {
      from: 'propose-repos',
      to: 'confirm-repos',
      map: (proposal: z.infer<typeof proposalSchema>, item) => ({
        requirement: (item.input as Requirement).requirement,
        repos: proposal.repos.map((repo) => repo.name),
        reasons: proposal.repos.map((repo) => `${repo.name}: ${repo.why}`),
      }),
    },
    {
      from: 'confirm-repos',
      to: 'change-repos',
      map: (confirmed: z.infer<typeof confirmedSchema>, item) => ({ requirement: (item.input as Requirement).requirement, repos: confirmed.repos }),
    },
    { from: 'change-repos', to: 'summarize' },
  ],
});
