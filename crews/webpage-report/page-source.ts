// Where the example's pages come from: the HTML fixtures shipped in crews/webpage-report/pages/
// (a page name such as `heat-pumps.html`), or the web when a run allows it (an http(s) URL with
// WEBPAGE_REPORT_ALLOW_HTTP=1). A fixture is read by its real path inside the fixtures folder, so
// a name with "..", an absolute path or a symbolic link cannot reach another file.
//
// Page content is data. The HTML is turned into plain text by code: scripts and styles are
// dropped unrun, tags are stripped, and text that addresses automated readers ("ignore your
// previous instructions") is kept as text and flagged, never obeyed.
import { posix } from 'node:path';
import { readConfined } from '../../tools/confined-paths.js';
import { crewFolder } from '../../tools/crew-folder.js';

export interface PageLink {
  href: string;
  text: string;
}

export interface Page {
  /** The page's address: a fixture name (`heat-pumps.html`) or an http(s) URL. */
  url: string;
  title: string;
  /** The visible text, one block a line, as a reader would see it (hidden text included: code does not apply CSS). */
  text: string;
  /** The page's links, resolved against its address. */
  links: PageLink[];
  /** `<script>` elements dropped without running them. */
  scriptsRemoved: number;
  /** Lines that address automated readers, kept as data and reported. */
  suspicious: string[];
}

/** A page could not be had: not a fixture, outside the fixtures folder, the network not allowed, an HTTP error. */
export class PageUnavailableError extends Error {
  readonly code = 'page_unavailable';
}

/** The largest page read (bytes of HTML): a larger one is cut, so one page cannot fill a model's context. */
const maxHtmlBytes = 512 * 1024;

/** The fixtures folder, crews/webpage-report/pages (beside the source, or found from the compiled copy). */
export function fixturesFolder(): string {
  return crewFolder(import.meta.url, 'webpage-report', 'pages');
}

export interface FetchOptions {
  /** Fetch http(s) URLs over the network (default: WEBPAGE_REPORT_ALLOW_HTTP=1). */
  allowHttp?: boolean;
  signal?: AbortSignal;
}

export function isWebAddress(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

export function httpAllowed(): boolean {
  return process.env.WEBPAGE_REPORT_ALLOW_HTTP === '1';
}

/** Reads a page: a fixture by name, or over HTTP when allowed. */
export async function fetchPage(url: string, options: FetchOptions = {}): Promise<Page> {
  return parsePage(url, await fetchHtml(url, options));
}

async function fetchHtml(url: string, options: FetchOptions): Promise<string> {
  if (isWebAddress(url)) {
    if (!(options.allowHttp ?? httpAllowed()))
      throw new PageUnavailableError(`${url} is on the web, and this run may not use the network (set WEBPAGE_REPORT_ALLOW_HTTP=1 to allow it)`);
    const response = await fetch(url, { redirect: 'follow', signal: options.signal ?? AbortSignal.timeout(20_000), headers: { accept: 'text/html' } });
    if (!response.ok) throw new PageUnavailableError(`${url} answered HTTP ${response.status}`);
    return readLimited(response, maxHtmlBytes);
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) throw new PageUnavailableError(`${url}: only http(s) addresses and fixture pages can be read`);
  try {
    return (await readConfined(fixturesFolder(), url)).slice(0, maxHtmlBytes);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') throw new PageUnavailableError(`there is no page "${url}" among the fixtures`);
    if (code === 'outside_work_directory') throw new PageUnavailableError(`"${url}" is outside the fixtures folder`);
    throw error;
  }
}

/** The start of a response's body, at most `limit` bytes: the rest is never downloaded. */
async function readLimited(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  await reader.cancel().catch(() => {});
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', middot: '·', mdash: '—', ndash: '–', hellip: '…' };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    return entities[name.toLowerCase()] ?? whole;
  });
}

/** Text that speaks to an automated reader rather than a human one: flagged for the report, never followed. */
const addressesMachines =
  /\b(ignore (all |any |your )?(previous |prior |earlier )?instructions|you are now|system prompt|AI (assistants?|agents?|models?)|language models?)\b/i;

/** Plain text, links and warnings from HTML. Deliberately simple: no DOM, nothing runs. */
export function parsePage(url: string, html: string): Page {
  const scriptsRemoved = (html.match(/<script\b/gi) ?? []).length;
  const body = html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style|noscript|template)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<(script|style)\b[\s\S]*$/gi, ' ');
  const title = decodeEntities(/<title\b[^>]*>([\s\S]*?)<\/title>/i.exec(body)?.[1] ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  const links: PageLink[] = [];
  for (const match of body.matchAll(/<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')[^>]*>([\s\S]*?)<\/a>/gi)) {
    const href = resolveLink(url, decodeEntities(match[1] ?? match[2] ?? '').trim());
    const text = decodeEntities(match[3]!.replace(/<[^>]*>/g, ' '))
      .replace(/\s+/g, ' ')
      .trim();
    if (href && !links.some((link) => link.href === href)) links.push({ href, text });
  }
  const text = decodeEntities(
    body
      .replace(/<title\b[\s\S]*?<\/title>/gi, ' ')
      // Line breaks in HTML source are spaces; blocks make the lines.
      .replace(/\s+/g, ' ')
      .replace(/<\/?(p|div|h[1-6]|li|ul|ol|br|tr|article|section|header|footer|blockquote|pre|table)\b[^>]*>/gi, '\n')
      .replace(/<[^>]*>/g, ' '),
  )
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .join('\n');
  const suspicious = text.split('\n').filter((line) => addressesMachines.test(line));
  return { url, title, text, links, scriptsRemoved, suspicious };
}

/** A link's address against its page's; undefined for links that lead nowhere readable (anchors, mailto:, javascript:). */
function resolveLink(base: string, href: string): string | undefined {
  if (!href || href.startsWith('#')) return undefined;
  if (isWebAddress(href)) return href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(href)) return undefined;
  if (isWebAddress(base)) return new URL(href, base).href;
  const path = posix.normalize(posix.join(posix.dirname(base), href.split('#')[0]!));
  return path.startsWith('..') || path.startsWith('/') ? undefined : path;
}

/** The same words, whatever the spacing, line breaks and kind of quotation marks. */
export function normalizeForQuote(text: string): string {
  return text
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Whether `quote` occurs in `text`, word for word. */
export function quoteOccurs(text: string, quote: string): boolean {
  const needle = normalizeForQuote(quote);
  return needle.length > 0 && normalizeForQuote(text).includes(needle);
}
