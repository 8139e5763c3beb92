import type { CorruptRecordError } from '../store/errors/corrupt-record-error.js';
import type { JobCounts } from '../queue/job-queue.js';
import type { WorkEvent, WorkItem } from '../work/work-item.js';
import { describeWorkEvent } from '../work/describe-work-event.js';
import type { Evidence } from '../workflow/claim.js';
import type { ReviewRequest } from '../workflow/review.js';
import type { ItemRecord, RunRecord, Transition } from '../workflow/run-state.js';
import { escapeHtml, graphSvg, type GraphNode } from './graph-svg.js';

/** The page frame: a title, the navigation, and the body. */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Troupe</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2530;background:#fafbfc}
header{background:#1d2530;color:#fff;padding:10px 24px;display:flex;gap:20px;align-items:center}
header a{color:#cfd8e3;text-decoration:none}header a.home{color:#fff}header strong{margin-right:12px}
main{padding:20px 24px;max-width:1200px}table{border-collapse:collapse;width:100%;margin:8px 0 20px}
th,td{border-bottom:1px solid #e3e7ed;padding:6px 8px;text-align:left;vertical-align:top}th{font-weight:600;color:#4a5565}
.state{display:inline-block;padding:1px 8px;border-radius:10px;background:#eef1f5}
.accepted,.approved,.done,.finished{background:#dff3e4}.awaiting-review,.pending,.running{background:#fff4d6}.failed,.rejected{background:#fde2e1}
.graph{overflow-x:auto;background:#fff;border:1px solid #e3e7ed;border-radius:8px;padding:8px;margin:8px 0 20px}
form{display:inline}input[type=text]{width:220px}button{margin-left:4px}pre{white-space:pre-wrap;margin:0}
.muted{color:#6b7684}.error{color:#a3221b}pre.value{background:#f3f5f8;padding:4px 6px;border-radius:4px;max-height:240px;overflow:auto}
ul.evidence{margin:0;padding-left:18px}.damaged{background:#fde2e1;border:1px solid #f0b4b0;border-radius:8px;padding:8px 12px;margin:8px 0 16px}
</style></head><body><header><a href="/" class="home"><strong>Troupe</strong></a><a href="/runs">Runs</a><a href="/reviews">Reviews</a><a href="/work">Work items</a><a href="/queues">Queues</a></header>
<main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

/** Records that could not be read are named where they are, never silently left out of a page. */
export function damagedNotice(damaged: readonly CorruptRecordError[]): string {
  if (damaged.length === 0) return '';
  return `<div class="damaged" role="alert"><strong>${damaged.length} stored record${damaged.length > 1 ? 's are' : ' is'} damaged and not shown:</strong><ul>${damaged.map((error) => `<li>${escapeHtml(error.message)}</li>`).join('')}</ul></div>`;
}

const state = (value: string) => `<span class="state ${escapeHtml(value)}">${escapeHtml(value)}</span>`;
const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/** A run: its workflow drawn with how many items each task has done, is holding or failed; its items; its transitions. */
export function runPage(run: RunRecord, items: ItemRecord[], transitions: Transition[], reviews: ReviewRequest[]): string {
  let picture = '<p class="muted">This run was recorded before runs kept their graph.</p>';
  if (run.graph) {
    const nodes: GraphNode[] = run.graph.tasks.map((task) => {
      const statuses = items.map((item) => item.tasks[task.name]?.status ?? 'pending');
      const count = (status: string) => statuses.filter((s) => s === status).length;
      const [done, waiting, failed, skipped] = [count('done'), count('awaiting-review'), count('failed'), count('skipped')];
      const detail =
        [done ? `${done} done` : '', waiting ? `${waiting} waiting` : '', failed ? `${failed} failed` : '', skipped ? `${skipped} skipped` : '']
          .filter(Boolean)
          .join(', ') || 'not reached';
      return { id: task.name, label: task.name, detail: `${task.kind}: ${detail}`, tone: failed ? 'bad' : waiting ? 'waiting' : done > 0 ? 'good' : 'neutral' };
    });
    picture = `<div class="graph">${graphSvg(
      nodes,
      run.graph.edges.map((edge) => ({
        from: edge.from,
        to: edge.to,
        ...(edge.route ? { label: edge.route } : {}),
        ...(edge.loop ? { back: true, label: 'loop' } : {}),
      })),
      `workflow ${run.workflow}`,
    )}</div>`;
  }
  const itemRows = items.map((item) => {
    const review = item.review ? ` <a href="/reviews#${escapeHtml(item.review)}">review</a>` : '';
    return `<tr><td>${escapeHtml(item.id)}</td><td>${state(item.state)}${review}</td><td>${escapeHtml(item.reason ?? '')}</td></tr>`;
  });
  const outputs = items.map((item) => {
    const rows = Object.entries(item.tasks)
      .filter(([, record]) => record.status !== 'pending' && record.status !== 'skipped')
      .map(
        ([task, record]) =>
          `<tr><td>${escapeHtml(task)}</td><td>${state(record.status)}${record.attempts > 1 ? ` <span class="muted">after ${record.attempts} attempts</span>` : ''}${record.model ? `<br><span class="muted">${escapeHtml(record.model)}</span>` : ''}</td><td>${record.output === undefined ? '' : `<pre class="value">${escapeHtml(JSON.stringify(record.output, null, 2))}</pre>`}${record.error ? `<div class="error">${escapeHtml(record.error)}</div>` : ''}</td><td>${evidenceList(record.evidence ?? [])}</td></tr>`,
      );
    return `<h3 id="item-${escapeHtml(item.id)}">Item ${escapeHtml(item.id)} ${state(item.state)}</h3>
<details><summary>input</summary><pre class="value">${escapeHtml(JSON.stringify(item.input, null, 2))}</pre></details>
<table class="outputs"><thead><tr><th>task</th><th>status</th><th>output</th><th>evidence</th></tr></thead><tbody>${rows.join('') || '<tr><td colspan="4" class="muted">No task has run yet.</td></tr>'}</tbody></table>`;
  });
  const transitionRows = transitions.slice(-300).map((t) => ({
    at: t.at,
    html: `<tr><td>${when(t.at)}</td><td>${escapeHtml(t.item)}</td><td>${escapeHtml(t.task ?? '')}</td><td>${t.from === t.to ? '' : `${state(t.from)} → `}${state(t.to)}</td><td>${escapeHtml(t.policy ?? t.route ?? '')}${t.worker ? `<br><span class="muted">by ${escapeHtml(t.worker)}</span>` : ''}</td><td>${escapeHtml(t.why)}${(
      t.validation ?? []
    )
      .map((issue) => `<div class="error">invalid ${escapeHtml(issue.path.map(String).join('.') || '(value)')}: ${escapeHtml(issue.message)}</div>`)
      .join(
        '',
      )}${t.claim ? `<div class="muted">claim ${escapeHtml(t.claim.status)}${t.claim.model ? ` by ${escapeHtml(t.claim.model)}` : ''}</div>${evidenceList(t.claim.evidence)}` : ''}</td></tr>`,
  }));
  // One timeline, by time: the review records say when a person was asked and when and how they decided.
  const timeline = [...transitionRows, ...reviews.flatMap(reviewEvents)].sort((a, b) => a.at - b.at).map((row) => row.html);
  return page(
    `Run ${run.id}`,
    `<p>Workflow <strong>${escapeHtml(run.workflow)}</strong> ${state(run.status)} · started ${when(run.startedAt)} · ${reviews.filter((r) => r.status === 'pending').length} pending review(s)</p>
${picture}
<h2>Items</h2><table><thead><tr><th>item</th><th>state</th><th>why</th></tr></thead><tbody>${itemRows.join('')}</tbody></table>
<h2>Outputs and evidence</h2>${outputs.join('')}
<h2>Timeline</h2><p class="muted">The items' transitions, and each review: when it asked a person and who decided it, when, and with what note.</p>
<table class="timeline"><thead><tr><th>at</th><th>item</th><th>task</th><th>state</th><th>rule or route</th><th>why</th></tr></thead><tbody>${timeline.join('')}</tbody></table>`,
  );
}

/**
 * A review on a run's timeline, from its record: when it asked a person, and (once decided) who
 * decided, when, with the note and any corrected value. The decision shows as soon as it is
 * recorded, before the run applies it.
 */
function reviewEvents(r: ReviewRequest): Array<{ at: number; html: string }> {
  const link = `<a href="/reviews#${escapeHtml(r.id)}">${escapeHtml(r.id)}</a>`;
  const cells = `<td>${escapeHtml(r.item)}</td><td>${escapeHtml(r.task)}</td>`;
  const asked = {
    at: r.createdAt,
    html: `<tr class="review-asked"><td>${when(r.createdAt)}</td>${cells}<td><span class="state pending">review asked</span></td><td>${escapeHtml(r.policy)}</td><td>${link} asks a person (${escapeHtml(r.kind)}): ${escapeHtml(r.what)}</td></tr>`,
  };
  const decision = r.decision;
  if (!decision) return [asked];
  const value =
    decision.value === undefined
      ? ''
      : `<div class="muted">corrected value</div><pre class="value">${escapeHtml(JSON.stringify(decision.value, null, 2))}</pre>`;
  return [
    asked,
    {
      at: decision.at,
      html: `<tr class="review-decided"><td>${when(decision.at)}</td>${cells}<td>${state(r.status)}</td><td><span class="muted">by ${escapeHtml(decision.by)}</span></td><td>${link} ${escapeHtml(r.status)} by ${escapeHtml(decision.by)}${decision.note ? `: “${escapeHtml(decision.note)}”` : ''}${value}</td></tr>`,
    },
  ];
}

/** Sources a claim rests on, each as text: a quote from a web page or a tool stays a quote. */
function evidenceList(evidence: readonly Evidence[]): string {
  if (evidence.length === 0) return '';
  return `<ul class="evidence">${evidence.map((e) => `<li>${escapeHtml(e.source)}${e.quote ? `: “${escapeHtml(e.quote)}”` : ''}${e.ref ? ` <span class="muted">(${escapeHtml(e.ref)})</span>` : ''}</li>`).join('')}</ul>`;
}

/** What a person typed into a review's form that could not be saved, shown again with why. */
export interface KeptReviewForm {
  review: string;
  decision: 'approve' | 'reject';
  note: string;
  value: string;
  error: string;
}

/** Reviews to decide. `token` goes into each form as a hidden field: the dashboard refuses a decision without it. */
export function reviewsPage(reviews: ReviewRequest[], token: string, damaged: readonly CorruptRecordError[] = [], kept?: KeptReviewForm): string {
  const hidden = `<input type="hidden" name="_token" value="${escapeHtml(token)}">`;
  const pending = reviews.filter((r) => r.status === 'pending').sort((a, b) => a.createdAt - b.createdAt);
  const decided = reviews
    .filter((r) => r.status !== 'pending')
    .sort((a, b) => (b.decision?.at ?? 0) - (a.decision?.at ?? 0))
    .slice(0, 50);
  const card = (
    r: ReviewRequest,
  ) => `<tr id="${escapeHtml(r.id)}"><td>${escapeHtml(r.id)}<br><span class="muted">${escapeHtml(r.workflow)} / <a href="/runs/${escapeHtml(r.runId)}">${escapeHtml(r.runId)}</a> / ${escapeHtml(r.item)} / ${escapeHtml(r.task)}</span></td>
<td>${escapeHtml(r.what)}<br><span class="muted">${escapeHtml(r.kind)} · ${escapeHtml(r.policy)}</span>${r.findings.length ? `<br>${r.findings.map((f) => escapeHtml(f)).join('<br>')}` : ''}</td>
<td><pre>${escapeHtml(r.proposal === undefined ? '' : JSON.stringify(r.proposal, null, 2))}</pre>${r.evidence.map((e) => `<div class="muted">${escapeHtml(e.source)}${e.quote ? `: “${escapeHtml(e.quote)}”` : ''}</div>`).join('')}</td>
<td>${
    r.status === 'pending'
      ? reviewForms(r, hidden, kept?.review === r.id ? kept : undefined)
      : `${state(r.status)} by ${escapeHtml(r.decision?.by ?? '')}${r.decision?.note ? `: ${escapeHtml(r.decision.note)}` : ''}`
  }</td></tr>`;
  const head = '<thead><tr><th>review</th><th>what would happen</th><th>proposal and evidence</th><th>decision</th></tr></thead>';
  return page(
    'Reviews',
    `${damagedNotice(damaged)}<table>${head}<tbody>${pending.map(card).join('') || '<tr><td colspan="4" class="muted">Nothing waits for a person.</td></tr>'}</tbody></table>
<p class="muted">A decision is recorded at once; the run applies it when it resumes (troupe run --resume &lt;run&gt;), or right away when it waits (--wait).</p>
<h2>Decided</h2><table>${head}<tbody>${decided.map(card).join('')}</tbody></table>`,
  );
}

function reviewForms(r: ReviewRequest, hidden: string, kept: KeptReviewForm | undefined): string {
  const typed = (decision: KeptReviewForm['decision'], field: 'note' | 'value') =>
    kept?.decision === decision && kept[field] ? ` value="${escapeHtml(kept[field])}"` : '';
  const error = kept ? `<div class="error" role="alert">${escapeHtml(kept.error)}</div>` : '';
  return `${error}<form method="post" action="/reviews/${escapeHtml(r.id)}/approve">${hidden}<input type="text" name="note" placeholder="note"${typed('approve', 'note')}><input type="text" name="value" placeholder="corrected value (JSON, optional)"${typed('approve', 'value')}><button>Approve</button></form>
<form method="post" action="/reviews/${escapeHtml(r.id)}/reject">${hidden}<input type="text" name="note" placeholder="why"${typed('reject', 'note')}><button>Reject</button></form>`;
}

export interface WorkGraphView {
  name: string;
  items: Array<{ id: string; description?: string; dependsOn: readonly string[]; item?: WorkItem }>;
  events: WorkEvent[];
  pending?: JobCounts;
}

/** A work graph: items drawn with their versions and what they depend on; what flowed lately. */
export function workGraphPage(view: WorkGraphView): string {
  const nodes: GraphNode[] = view.items.map(({ id, item }) => ({
    id,
    label: id,
    detail: item ? `v${item.version} · ${item.changedBy}` : 'not seeded',
    tone: item && item.version > 1 ? 'good' : 'neutral',
  }));
  const edges = view.items.flatMap(({ id, dependsOn }) => dependsOn.map((from) => ({ from, to: id })));
  const quiet = view.pending ? view.pending.waiting + view.pending.active + view.pending.delayed === 0 : undefined;
  return page(
    `Work graph ${view.name}`,
    `<p>${quiet === undefined ? '' : quiet ? 'Quiet: no notification pending.' : `${view.pending!.waiting + view.pending!.active + view.pending!.delayed} notification(s) pending.`}</p>
<div class="graph">${graphSvg(nodes, edges, `work graph ${view.name}`)}</div>
<h2>Items</h2><table><thead><tr><th>item</th><th>version</th><th>last change</th></tr></thead><tbody>${view.items.map(({ id, item }) => `<tr><td>${escapeHtml(id)}</td><td>${item ? `v${item.version}` : ''}</td><td>${escapeHtml(item?.summary ?? '')}</td></tr>`).join('')}</tbody></table>
<h2>What flowed</h2><table><tbody>${
      view.events
        .slice(-100)
        .reverse()
        .map((event) => `<tr><td>${escapeHtml(describeWorkEvent(event))}</td></tr>`)
        .join('') || '<tr><td class="muted">Nothing yet.</td></tr>'
    }</tbody></table>`,
  );
}

export function queuesPage(queues: Array<{ name: string; kind: string; counts: JobCounts }>, board: boolean): string {
  const rows = queues.map(
    ({ name, kind, counts }) =>
      `<tr><td>${board ? `<a href="/queues/board/queue/${encodeURIComponent(name)}">${escapeHtml(name)}</a>` : escapeHtml(name)}</td><td>${escapeHtml(kind)}</td>${(['waiting', 'active', 'delayed', 'completed', 'failed'] as const).map((k) => `<td>${counts[k]}</td>`).join('')}</tr>`,
  );
  return page(
    'Queues',
    `${board ? '<p><a href="/queues/board">Open bull-board</a> for jobs, retries and failures on Redis.</p>' : '<p class="muted">bull-board appears here when the queues are on Redis (REDIS_URL).</p>'}
<table><thead><tr><th>queue</th><th>carries</th><th>waiting</th><th>active</th><th>delayed</th><th>completed</th><th>failed</th></tr></thead><tbody>${rows.join('') || '<tr><td colspan="7" class="muted">No queues.</td></tr>'}</tbody></table>`,
  );
}
