/** A box in a drawn graph: its name, a line under it, and a tone that colours it. */
export interface GraphNode {
  id: string;
  label: string;
  detail?: string;
  tone?: 'neutral' | 'good' | 'waiting' | 'bad';
  href?: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  label?: string;
  /** Drawn dashed and curved below: a loop that sends work back. */
  back?: boolean;
}

const box = { width: 180, height: 56, columnGap: 80, rowGap: 22, margin: 24 };
const arcRoom = 36;
const tones = { neutral: '#eef1f5', good: '#dff3e4', waiting: '#fff4d6', bad: '#fde2e1' } as const;

/**
 * Draws a directed graph as SVG, left to right in layers: each node's column is its longest
 * distance from a node without incoming (forward) edges. Enough for workflow and work-item
 * graphs of a few dozen nodes, without a layout library in the browser.
 */
export function graphSvg(nodes: readonly GraphNode[], edges: readonly GraphEdge[], title: string): string {
  const forward = edges.filter((edge) => !edge.back);
  const column = new Map(nodes.map((node) => [node.id, 0]));
  // Longest path layering (the forward graph is acyclic); bounded so a cycle cannot hang it.
  for (let pass = 0; pass < nodes.length; pass++) {
    let moved = false;
    for (const edge of forward) {
      const next = (column.get(edge.from) ?? 0) + 1;
      if (column.has(edge.to) && next > column.get(edge.to)!) {
        column.set(edge.to, next);
        moved = true;
      }
    }
    if (!moved) break;
  }
  const rows = new Map<number, number>();
  const position = new Map<string, { x: number; y: number }>();
  for (const node of nodes) {
    const col = column.get(node.id)!;
    const row = rows.get(col) ?? 0;
    rows.set(col, row + 1);
    // Room above the first row for edges that skip a column and arc over the boxes between.
    position.set(node.id, { x: box.margin + col * (box.width + box.columnGap), y: box.margin + arcRoom + row * (box.height + box.rowGap) });
  }
  const width = box.margin * 2 + (Math.max(0, ...column.values()) + 1) * (box.width + box.columnGap) - box.columnGap;
  const height = box.margin * 2 + arcRoom + Math.max(1, ...rows.values()) * (box.height + box.rowGap) - box.rowGap + 40;

  const lines = edges.map((edge) => {
    const from = position.get(edge.from);
    const to = position.get(edge.to);
    if (!from || !to) return '';
    if (edge.back) {
      const x1 = from.x + box.width / 2;
      const x2 = to.x + box.width / 2;
      const y = Math.max(from.y, to.y) + box.height;
      const path = `M ${x1} ${from.y + box.height} C ${x1} ${y + 40}, ${x2} ${y + 40}, ${x2} ${to.y + box.height + 4}`;
      return `<path d="${path}" class="edge back" marker-end="url(#arrow)"/>${edge.label ? `<text x="${(x1 + x2) / 2}" y="${y + 34}" class="edge-label">${escapeHtml(edge.label)}</text>` : ''}`;
    }
    const x1 = from.x + box.width;
    const x2 = to.x - 4;
    const mid = (x1 + x2) / 2;
    if ((column.get(edge.to) ?? 0) - (column.get(edge.from) ?? 0) > 1) {
      // It would cross the boxes of the columns between: arc over them instead.
      const y1 = from.y + 14;
      const y2 = to.y + 14;
      const top = Math.min(from.y, to.y) - arcRoom + 8;
      return `<path d="M ${x1} ${y1} C ${x1 + 60} ${top}, ${x2 - 60} ${top}, ${x2} ${y2}" class="edge" marker-end="url(#arrow)"/>${edge.label ? `<text x="${mid}" y="${top + 14}" class="edge-label">${escapeHtml(edge.label)}</text>` : ''}`;
    }
    const y1 = from.y + box.height / 2;
    const y2 = to.y + box.height / 2;
    return `<path d="M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}" class="edge" marker-end="url(#arrow)"/>${edge.label ? `<text x="${mid}" y="${(y1 + y2) / 2 - 6}" class="edge-label">${escapeHtml(edge.label)}</text>` : ''}`;
  });
  const boxes = nodes.map((node) => {
    const { x, y } = position.get(node.id)!;
    const shape =
      `<rect x="${x}" y="${y}" width="${box.width}" height="${box.height}" rx="8" fill="${tones[node.tone ?? 'neutral']}" class="node"/>` +
      `<text x="${x + 12}" y="${y + 22}" class="node-label">${escapeHtml(clip(node.label, 24))}</text>` +
      (node.detail ? `<text x="${x + 12}" y="${y + 42}" class="node-detail">${escapeHtml(clip(node.detail, 30))}</text>` : '');
    return `<g class="graph-node" data-id="${escapeHtml(node.id)}">${node.href ? `<a href="${escapeHtml(node.href)}">${shape}</a>` : shape}</g>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#7a8594"/></marker></defs>
<style>.edge{fill:none;stroke:#7a8594;stroke-width:1.5}.back{stroke-dasharray:5 4}.edge-label{font:11px sans-serif;fill:#4a5565;text-anchor:middle}.node{stroke:#9aa5b4}.node-label{font:600 13px sans-serif;fill:#1d2530}.node-detail{font:11px sans-serif;fill:#4a5565}</style>
${lines.join('\n')}
${boxes.join('\n')}
</svg>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function clip(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
