import type { Hono } from 'hono';
import type { StateStore } from '../store/state-store.js';
import type { CorruptRecordError } from '../store/errors/corrupt-record-error.js';
import { listRecordedRuns, loadRecordedRun, readTimeline, recordedRunKinds, type RecordedRun, type TimelineEntry } from '../workflow/run-record.js';
import { listReviews } from '../workflow/review.js';
import { listRuns } from '../workflow/run-state.js';
import { spendChartSvg } from './cost-chart.js';
import { escapeHtml } from './graph-svg.js';
import { recordedRunGraphSvg } from './recorded-run-graph.js';
import { damagedNotice, page } from './pages.js';

/**
 * The pages of runs of every kind (workflow runs from run-state.ts, crew, agent, handler and
 * work-item runs from run-record.ts): `/`, the most recent runs and how many reviews wait;
 * `/runs`, every run with filters (`?kind=`, `?status=`, `?name=`) and cost and duration; and
 * `/runs/:id` for a recorded run, its timeline with each model call opening to its exact
 * messages. A workflow run's id falls through to the workflow run page. Everything that came
 * from a model, a tool or a page is escaped and shown as text.
 */
export function registerRecordedRunPages(app: Hono, store: StateStore): void {
  app.get('/', async (c) => {
    const damaged: CorruptRecordError[] = [];
    const [rows, pending] = await Promise.all([runRows(store, noFilter, damaged), listReviews(store, { status: 'pending' }, damaged)]);
    return c.html(recentRunsPage(rows, pending.length, damaged));
  });

  app.get('/runs', async (c) => {
    const filters = { kind: c.req.query('kind') ?? '', status: c.req.query('status') ?? '', name: c.req.query('name') ?? '' };
    const damaged: CorruptRecordError[] = [];
    return c.html(allRunsPage(await runRows(store, filters, damaged), filters, damaged));
  });

  app.get('/runs/:id', async (c, next) => {
    const id = c.req.param('id');
    const run = await loadRecordedRun(store, id).catch(() => undefined);
    if (!run) return next();
    return c.html(recordedRunPage(run, await readTimeline(store, id)));
  });
}

interface RunFilters {
  kind: string;
  status: string;
  name: string;
}

const noFilter: RunFilters = { kind: '', status: '', name: '' };

/** Runs of every kind that pass `filters`, newest first; damaged workflow run records go to `damaged`. */
async function runRows(store: StateStore, filters: RunFilters, damaged: CorruptRecordError[]): Promise<Row[]> {
  const keep = (kind: string, name: string, status: string) =>
    (!filters.kind || filters.kind === kind) && (!filters.status || filters.status === status) && (!filters.name || filters.name === name);
  const [workflowRuns, recorded] = await Promise.all([listRuns(store, damaged), listRecordedRuns(store)]);
  return [
    ...workflowRuns
      .filter((run) => keep('workflow', run.workflow, run.status))
      .map((run) => ({ id: run.id, kind: 'workflow', name: run.workflow, status: run.status, startedAt: run.startedAt })),
    ...recorded
      .filter((run) => keep(run.kind, run.name, run.status))
      .map((run) => ({
        id: run.id,
        kind: run.kind,
        name: run.name,
        status: run.status,
        startedAt: run.startedAt,
        costUsd: run.totals.costUsd,
        tokens: run.totals.inputTokens + run.totals.outputTokens,
        ...(run.endedAt === undefined ? {} : { durationMs: run.totals.durationMs }),
      })),
  ].sort((a, b) => b.startedAt - a.startedAt);
}

interface Row {
  id: string;
  kind: string;
  name: string;
  status: string;
  startedAt: number;
  costUsd?: number;
  tokens?: number;
  durationMs?: number;
}

const text = (value: string) => escapeHtml(value);
const state = (value: string) => `<span class="state ${text(value)}">${text(value)}</span>`;
const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const seconds = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
const dollars = (usd: number | undefined) => (usd === undefined ? '-' : `$${usd.toFixed(4)}`);

/** How many runs the first page lists; /runs lists them all. */
export const recentRunsShown = 50;

/** The first page: how many reviews wait for a person, and the most recent runs of every kind. */
export function recentRunsPage(rows: readonly Row[], pendingReviews: number, damaged: readonly CorruptRecordError[] = []): string {
  const reviews = pendingReviews
    ? `<a href="/reviews">${pendingReviews} review${pendingReviews > 1 ? 's' : ''} waiting for a person</a>`
    : 'No review is waiting.';
  const more = rows.length > recentRunsShown ? `The ${recentRunsShown} most recent of ${rows.length} runs. ` : '';
  return page(
    'Recent runs',
    `${damagedNotice(damaged)}<p class="reviews-waiting">${reviews}</p>
${runsTable(rows.slice(0, recentRunsShown), 'No runs yet.')}<p class="muted">${more}<a href="/runs">All runs</a>, by kind, status or name.</p>`,
  );
}

export function allRunsPage(rows: readonly Row[], filters: RunFilters, damaged: readonly CorruptRecordError[] = []): string {
  const options = (values: readonly string[], chosen: string) =>
    ['', ...values].map((v) => `<option value="${text(v)}"${v === chosen ? ' selected' : ''}>${v ? text(v) : 'any'}</option>`).join('');
  const form = `<form method="get" action="/runs">kind <select name="kind">${options(recordedRunKinds, filters.kind)}</select>
 status <select name="status">${options(['running', 'finished', 'stopped', 'failed', 'done', 'awaiting-review'], filters.status)}</select>
 name <input type="text" name="name" value="${text(filters.name)}"><button type="submit">Filter</button></form>`;
  // With a name chosen (a crew, an agent), its recorded runs' cost and tokens over time.
  const spent = filters.name
    ? spendChartSvg(
        rows.flatMap((row) =>
          row.kind !== 'workflow' && row.name === filters.name
            ? [{ id: row.id, startedAt: row.startedAt, costUsd: row.costUsd ?? 0, tokens: row.tokens ?? 0 }]
            : [],
        ),
        filters.name,
      )
    : '';
  return page(
    'Runs',
    `${damagedNotice(damaged)}${form}
${spent ? `<h2>Cost and tokens over time</h2>${spent}` : ''}
${runsTable(rows, 'No runs match.')}`,
  );
}

function runsTable(rows: readonly Row[], empty: string): string {
  const body = rows
    .map(
      (row) =>
        `<tr><td><a href="/runs/${encodeURIComponent(row.id)}">${text(row.id)}</a></td><td>${text(row.kind)}</td><td><a href="/runs?name=${encodeURIComponent(row.name)}">${text(row.name)}</a></td><td>${state(row.status)}</td><td>${when(row.startedAt)}</td><td>${seconds(row.durationMs)}</td><td>${dollars(row.costUsd)}</td></tr>`,
    )
    .join('');
  return `<table class="runs"><thead><tr><th>run</th><th>kind</th><th>name</th><th>status</th><th>started</th><th>duration</th><th>cost</th></tr></thead><tbody>${body || `<tr><td colspan="7" class="muted">${text(empty)}</td></tr>`}</tbody></table>`;
}

export function recordedRunPage(run: RecordedRun, timeline: readonly TimelineEntry[]): string {
  const t = run.totals;
  const summary = `<p>${text(run.kind)} <strong>${text(run.name)}</strong> ${state(run.status)}${run.stopReason ? ` — ${text(run.stopReason)}` : ''}</p>
<p class="muted">started ${when(run.startedAt)} by ${text(run.by.user)}@${text(run.by.host)} (pid ${run.by.pid}), took ${seconds(run.endedAt === undefined ? undefined : t.durationMs)}</p>
<table><thead><tr><th>model calls</th><th>input tokens</th><th>output tokens</th><th>tool calls</th><th>cost</th></tr></thead>
<tbody><tr><td>${t.modelCalls}</td><td>${t.inputTokens}</td><td>${t.outputTokens}</td><td>${t.toolCalls}</td><td>${dollars(t.costUsd)}</td></tr></tbody></table>
${run.input === undefined ? '' : `<h2>Input</h2>${block(run.input)}`}`;
  const rows = timeline.map(
    (entry) =>
      `<tr><td>${new Date(entry.at).toISOString().slice(11, 23)}</td><td>${text('agent' in entry && entry.agent ? entry.agent : '')}</td><td>${describe(entry)}</td></tr>`,
  );
  return page(
    `Run ${run.id}`,
    `${summary}<h2>Graph</h2>${recordedRunGraphSvg(timeline, `graph of run ${run.id}`)}<h2>Timeline</h2><table><thead><tr><th>time</th><th>agent</th><th>step</th></tr></thead><tbody>${rows.join('') || '<tr><td colspan="3" class="muted">Nothing recorded yet.</td></tr>'}</tbody></table>`,
  );
}

/** Recorded payloads are JSON text (possibly cut): shown indented when they parse, as they are otherwise; always as text. */
function block(payload: string): string {
  let shown = payload;
  try {
    const parsed: unknown = JSON.parse(payload);
    shown = typeof parsed === 'string' ? parsed : JSON.stringify(parsed, null, 2);
  } catch {
    // Cut payloads (with the truncation marker) are not JSON any more: shown as recorded.
  }
  return `<pre>${text(shown)}</pre>`;
}

function describe(entry: TimelineEntry): string {
  switch (entry.type) {
    case 'model-call':
      return `<details class="model-call"><summary>model call <code>${text(entry.model)}</code> turn ${entry.turn}: ${entry.inputTokens} in, ${entry.outputTokens} out, ${dollars(entry.costUsd)}, ${entry.latencyMs} ms, ${text(entry.stopReason)}</summary>
${entry.system === undefined ? '' : `<h3>System</h3>${block(entry.system)}`}${entry.messages === undefined ? '<p class="muted">Messages not recorded.</p>' : `<h3>Messages sent</h3>${block(entry.messages)}`}${entry.reply === undefined ? '' : `<h3>Reply</h3>${block(entry.reply)}`}</details>`;
    case 'tool-call':
      return `<details class="tool-call"><summary>${entry.isError ? '✗' : '→'} tool <code>${text(entry.tool)}</code>${entry.durationMs === undefined ? '' : `, ${entry.durationMs} ms`}</summary><h3>Input</h3>${block(entry.input)}<h3>Output</h3>${block(entry.output ?? '')}</details>`;
    case 'model-error':
      return `model error <code>${text(entry.model)}</code>: ${text(entry.errorCode)} ${text(entry.message)}`;
    case 'retry':
      return `retry ${entry.attempt} of <code>${text(entry.model)}</code> after ${entry.delayMs} ms: ${text(entry.errorCode)} ${text(entry.message)}`;
    case 'delegation':
      return entry.status === undefined
        ? `delegates to <strong>${text(entry.member)}</strong>: ${text(entry.task ?? '')}`
        : `delegation to <strong>${text(entry.member)}</strong> ${state(entry.status)}${entry.reason ? ` — ${text(entry.reason)}` : ''}`;
    case 'speaker':
      return `round ${entry.round}: <strong>${text(entry.speaker)}</strong> speaks (${text(entry.method)})${entry.reason ? ` — ${text(entry.reason)}` : ''}`;
    case 'validation-failure':
      return `invalid ${text(entry.target)} of <code>${text(entry.tool)}</code>: ${block(entry.issues)}`;
    case 'task':
      return `task ${text(entry.task)} ${entry.status ? state(entry.status) : 'started'}${entry.reason ? ` — ${text(entry.reason)}` : ''}`;
    case 'termination':
      return `stopped by ${text(entry.condition)}: ${text(entry.reason)}`;
    case 'end':
      return `run ${state(entry.status)}${entry.reason ? ` — ${text(entry.reason)}` : ''}`;
    default:
      return `<code>${text(JSON.stringify(entry))}</code>`;
  }
}
