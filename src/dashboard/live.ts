import { createHash } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';

/** Where the pages' one script is served from: a file of the dashboard's own origin, as the CSP requires. */
export const liveScriptPath = '/assets/live.js';

/**
 * The browser's half of live pages. It listens to `/events` for the page it is on; when the
 * server says the page changed, it fetches the page again and swaps its `<main>` in. The new
 * page is parsed by DOMParser, which runs no script, and values stay escaped text as the server
 * wrote them. While a person is typing in a form the swap waits, so what they typed is kept.
 */
export const liveScript = `(() => {
  const meta = document.querySelector('meta[name="troupe-page"]');
  if (!meta || !window.EventSource) return;
  const root = document.documentElement;
  const where = location.pathname + location.search;
  const source = new EventSource('/events?page=' + encodeURIComponent(where) + '&seen=' + encodeURIComponent(meta.content));
  let waiting = false;
  const typing = () => Array.from(document.querySelectorAll('main input[type=text], main textarea')).some((field) => field.value !== '' || field === document.activeElement);
  const refresh = async () => {
    if (typing()) { waiting = true; return; }
    waiting = false;
    const response = await fetch(where, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
    if (!response.ok) return;
    const next = new DOMParser().parseFromString(await response.text(), 'text/html');
    const main = next.querySelector('main');
    if (!main) return;
    document.querySelector('main').replaceWith(document.adoptNode(main));
    document.title = next.title;
    root.dataset.liveUpdates = String(Number(root.dataset.liveUpdates || 0) + 1);
  };
  source.addEventListener('open', () => { root.dataset.live = 'connected'; });
  source.addEventListener('change', () => { refresh().catch(() => {}); });
  document.addEventListener('focusout', () => { if (waiting) setTimeout(() => { if (waiting) refresh().catch(() => {}); }, 0); });
})();
`;

/** What identifies one rendering of a page: a digest of its `<main>`, the part live pages swap. */
export function pageVersion(html: string): string {
  const start = html.indexOf('<main>');
  const end = html.lastIndexOf('</main>');
  const main = start >= 0 && end > start ? html.slice(start, end) : html;
  return createHash('sha256').update(main).digest('base64url').slice(0, 16);
}

/**
 * Stamps every dashboard page (HTML answered to a GET) with its version and the live script,
 * so the browser can ask `/events` whether it changed since. bull-board's pages are left alone.
 */
export function stampPages(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.req.method !== 'GET' || c.req.path.startsWith('/queues/board')) return;
    if (!(c.res.headers.get('content-type') ?? '').startsWith('text/html')) return;
    const html = await c.res.text();
    const stamp = `<meta name="troupe-page" content="${pageVersion(html)}"><script src="${liveScriptPath}" defer></script>`;
    const headers = new Headers(c.res.headers);
    headers.delete('content-length');
    c.res = new Response(html.replace('</head>', `${stamp}</head>`), { status: c.res.status, headers });
  };
}

export interface LiveEventsOptions {
  /** Renders a dashboard page as this request would see it (its HTML), or undefined when it cannot. */
  render(c: Context, path: string): Promise<string | undefined>;
  /** How often each open stream renders its page again to look for a change (default 1 s). */
  intervalMs?: number;
}

/**
 * Server-sent events for live pages: `GET /events?page=<path>&seen=<version>` sends `change`
 * whenever that page's version differs from the last one the browser has. The server polls the
 * store by rendering the page again every `intervalMs`; cheap enough for a console a few people
 * watch, and it follows every page (runs, a run, reviews, queues) without a change feed per
 * record kind. Every open stream is tracked, so `close()` ends them all at once: a stream left
 * open would keep its timer, its Redis reads and its connection alive after a SIGTERM.
 */
export function liveEvents(options: LiveEventsOptions): { handler: (c: Context) => Response | Promise<Response>; close(): void } {
  const open = new Set<{ stream: SSEStreamingApi; wake(): void }>();
  let stopped = false;
  const intervalMs = options.intervalMs ?? 1000;

  const handler = (c: Context) => {
    const page = c.req.query('page') ?? '/';
    if (!page.startsWith('/') || page.startsWith('//') || /^\/(events|assets|queues\/board)(\/|\?|$)/.test(page)) {
      return c.text('page must be a path of a dashboard page, such as /runs/<id>', 400);
    }
    if (stopped) return c.text('the dashboard is stopping', 503);
    return streamSSE(c, async (stream) => {
      let timer: NodeJS.Timeout | undefined;
      let resolveSleep: (() => void) | undefined;
      // Ends the wait between two looks at once: the loop then sees that the stream or the dashboard stopped.
      const entry = {
        stream,
        wake: () => {
          clearTimeout(timer);
          resolveSleep?.();
        },
      };
      open.add(entry);
      stream.onAbort(() => entry.wake());
      try {
        let seen = c.req.query('seen') ?? '';
        // A comment first: the browser (and a test) knows the stream is open before anything changes.
        await stream.write(': live\n\n');
        while (!stopped && !stream.aborted && !stream.closed) {
          const html = await options.render(c, page).catch(() => undefined);
          if (html !== undefined) {
            const version = pageVersion(html);
            if (version !== seen) {
              seen = version;
              await stream.writeSSE({ event: 'change', data: version });
            }
          }
          if (stopped || stream.aborted || stream.closed) break;
          await new Promise<void>((resolve) => {
            resolveSleep = resolve;
            timer = setTimeout(resolve, intervalMs);
          });
        }
      } finally {
        open.delete(entry);
      }
    });
  };

  return {
    handler,
    close: () => {
      stopped = true;
      for (const entry of open) {
        entry.wake();
        if (!entry.stream.closed) entry.stream.abort();
      }
      open.clear();
    },
  };
}
