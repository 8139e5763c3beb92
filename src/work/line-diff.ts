/**
 * A unified-style line diff (`-` removed, `+` added, two lines of context, `@@` between hunks),
 * shown to a dependent's agent so it sees what changed, not only the new text. Longest common
 * subsequence on lines; past `maxCells` (lines × lines) it gives up and returns undefined, and the
 * agent gets the new content alone: a diff is a convenience, the content is the truth.
 */
export function lineDiff(before: string, after: string, options: { context?: number; maxCells?: number } = {}): string | undefined {
  if (before === after) return '';
  const a = before.split('\n');
  const b = after.split('\n');
  // Common head and tail first: most edits are small, and this keeps the table small too.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  if ((midA.length + 1) * (midB.length + 1) > (options.maxCells ?? 4_000_000)) return undefined;

  const n = midA.length;
  const m = midB.length;
  const table = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * (m + 1) + j] =
        midA[i] === midB[j] ? table[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(table[(i + 1) * (m + 1) + j]!, table[i * (m + 1) + j + 1]!);
    }
  }
  const lines: Array<{ mark: ' ' | '-' | '+'; text: string }> = a.slice(0, head).map((text) => ({ mark: ' ', text }));
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && midA[i] === midB[j]) {
      lines.push({ mark: ' ', text: midA[i++]! });
      j++;
    } else if (i < n && (j === m || table[(i + 1) * (m + 1) + j]! >= table[i * (m + 1) + j + 1]!)) lines.push({ mark: '-', text: midA[i++]! });
    else lines.push({ mark: '+', text: midB[j++]! });
  }
  for (const text of a.slice(a.length - tail)) lines.push({ mark: ' ', text });

  const context = options.context ?? 2;
  const keep = new Array<boolean>(lines.length).fill(false);
  lines.forEach((line, index) => {
    if (line.mark === ' ') return;
    for (let k = Math.max(0, index - context); k <= Math.min(lines.length - 1, index + context); k++) keep[k] = true;
  });
  const out: string[] = [];
  let skipped = false;
  lines.forEach((line, index) => {
    if (!keep[index]) {
      skipped = true;
      return;
    }
    if (skipped || (out.length === 0 && index > 0)) out.push('@@');
    skipped = false;
    out.push(`${line.mark}${line.text}`);
  });
  return out.join('\n');
}
