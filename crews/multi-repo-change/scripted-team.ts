// A scripted model that plays both agents of the example the way a careful model would, with the
// slips the example is about. The scout proposes the repositories whose README names the shared
// invoice format, and so misses web-shop, which renders invoices without saying so: the person
// adds it at review. The editor renames the field in each repository's code, runs the checks, and
// in web-shop meets a failing check (its test builds an invoice with the old field): it reads the
// test, fixes it and runs the checks again. It authors the offline cassette (author.ts); its
// model id says `scripted:multi-repo-change`.
import type { Message, ModelRequest } from 'troupe';
import { scriptedModel, type ScriptedModel, type ScriptedReply } from 'troupe/testing';

export function scriptedTeam(options: { id?: string } = {}): ScriptedModel {
  return scriptedModel((request) => answer(request), { id: options.id ?? 'scripted:multi-repo-change' });
}

interface Step {
  name: string;
  input: Record<string, unknown>;
  output: string;
  isError: boolean;
}

/** The conversation so far as tool calls with their results, in order. */
function steps(messages: readonly Message[]): Step[] {
  const results = new Map<string, { output: string; isError: boolean }>();
  for (const message of messages)
    if (message.role === 'tool') for (const part of message.content) results.set(part.callId, { output: part.output, isError: part.isError === true });
  return messages.flatMap((message) =>
    message.role === 'assistant'
      ? message.content.flatMap((part) =>
          part.type === 'tool-call'
            ? [
                {
                  name: part.name,
                  input: part.input as Record<string, unknown>,
                  output: results.get(part.id)?.output ?? '',
                  isError: results.get(part.id)?.isError ?? false,
                },
              ]
            : [],
        )
      : [],
  );
}

function call(name: string, input: Record<string, unknown>, done: readonly Step[]): ScriptedReply {
  return { toolCalls: [{ name, input, id: `${name}_${done.length + 1}` }] };
}

function answer(request: ModelRequest): ScriptedReply {
  const tools = new Set(request.tools?.map((tool) => tool.name));
  const done = steps(request.messages);
  if (tools.has('list_repositories')) return scout(done);
  if (tools.has('run_checks')) return edit(done);
  return 'I have no tools for this request.';
}

function scout(done: Step[]): ScriptedReply {
  const listing = done.find((step) => step.name === 'list_repositories');
  if (!listing) return call('list_repositories', {}, done);
  const repos = [...listing.output.matchAll(/^(\S+) — (.*)$/gm)]
    .filter((line) => /invoice format/i.test(line[2]!))
    .map((line) => ({ name: line[1]!, why: `It ${line[2]!.replace(/^The /, 'is the ').replace(/^(\w)/, (c) => c.toLowerCase())}` }));
  return call('finish', { repos }, done);
}

/** The rename in code: every use of the old field. */
const renameInCode = (source: string) => source.replace(/\bcurrency\b/g, 'currencyCode');
/** The rename in a test's data: the old field as an object key. */
const renameInData = (source: string) => source.replace(/\bcurrency:/g, 'currencyCode:');

function edit(done: Step[]): ScriptedReply {
  const listing = done.find((step) => step.name === 'list_files');
  if (!listing) return call('list_files', {}, done);
  const files = listing.output.split('\n').filter((file) => file.endsWith('.mjs'));
  const read = (path: string) => done.findLast((step) => step.name === 'read_file' && step.input['path'] === path);
  const written = (path: string) => done.some((step) => step.name === 'write_file' && step.input['path'] === path);
  // Code first: read each source file, then rewrite the ones that use the field.
  for (const file of files.filter((name) => !name.endsWith('.test.mjs'))) {
    const content = read(file);
    if (!content) return call('read_file', { path: file }, done);
    if (/\bcurrency\b/.test(content.output) && !written(file)) return call('write_file', { path: file, content: renameInCode(content.output) }, done);
  }
  const lastWrite = done.findLastIndex((step) => step.name === 'write_file');
  const lastCheck = done.findLastIndex((step) => step.name === 'run_checks');
  if (lastWrite >= 0 && lastCheck < lastWrite) return call('run_checks', {}, done);
  const report = lastCheck >= 0 ? done[lastCheck]!.output : '';
  // A failing check: read the test that failed, and fix the data it builds with the old field.
  if (/^\d+ passed, [1-9]\d* failed/.test(report)) {
    const test = files.find((name) => name.endsWith('.test.mjs'))!;
    const content = read(test);
    if (!content || done.indexOf(content) < lastCheck) return call('read_file', { path: test }, done);
    if (/\bcurrency:/.test(content.output)) return call('write_file', { path: test, content: renameInData(content.output) }, done);
    return call('finish', { summary: `The checks still fail and I could not find why:\n${report}` }, done);
  }
  const changed = done.filter((step) => step.name === 'write_file').map((step) => String(step.input['path']));
  const failures = done.filter((step) => step.name === 'run_checks' && / [1-9]\d* failed/.test(step.output.split('\n')[0]!)).length;
  const summary =
    changed.length === 0
      ? 'Nothing in this repository uses the field; no change.'
      : `Renamed the field currency to currencyCode in ${changed.filter((file) => !file.endsWith('.test.mjs')).join(', ')}.` +
        (failures > 0
          ? ` The checks failed at first: ${changed.filter((file) => file.endsWith('.test.mjs')).join(', ')} built an invoice with the old field; I updated it, and the checks pass.`
          : ' The checks pass.');
  return call('finish', { summary }, done);
}
