import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { secureHeaders } from 'hono/secure-headers';
import { escapeHtml } from './graph-svg.js';
import { page } from './pages.js';

/** The form field and the header that carry the dashboard's token on a state-changing request. */
export const tokenField = '_token';
export const tokenHeader = 'x-troupe-token';

export interface GuardOptions {
  /** The secret a state-changing request must carry (every request when not on loopback). */
  token: string;
  /** The address the server is bound to: loopback addresses get the Host check, others need the token on every request. */
  host: string;
}

/** A fresh random token for one dashboard process: 32 bytes, URL-safe. */
export function newDashboardToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The address to open a dashboard bound beyond loopback with: its first page sets the token's cookie and drops it from the URL. */
export function tokenAddress(url: string, token: string): string {
  return `${url}/?token=${encodeURIComponent(token)}`;
}

/**
 * The address to open a server bound to `url`'s host with. A wildcard address (`0.0.0.0`, `::`)
 * listens on every interface but is no place a browser can go (Chrome refuses `0.0.0.0`, and it
 * means nothing on another machine), so the first external IPv4 address of this machine stands
 * for it, else loopback. Any other address is returned as it is.
 */
export function openableUrl(url: string, interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): string {
  const parsed = new URL(url);
  if (parsed.hostname !== '0.0.0.0' && parsed.hostname !== '[::]') return url;
  const external = Object.values(interfaces)
    .flat()
    .find((address) => address && address.family === 'IPv4' && !address.internal);
  parsed.hostname = external?.address ?? '127.0.0.1';
  return parsed.toString().replace(/\/$/, '');
}

/** Whether an address (or name) is this machine's loopback: only local processes can reach it. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/**
 * Security headers on every response, through Hono's `secureHeaders`. No script runs unless it
 * is a file of the dashboard's own origin (bull-board's bundles; Troupe's pages load only /assets/live.js), so
 * an injected `<script>` does nothing. Inline styles stay allowed: Troupe's pages and its SVG
 * graphs carry a `<style>` block and bull-board styles its loading screen inline; a style cannot
 * act. bull-board's Google Fonts stylesheet is left blocked (default-src 'self'): a local admin
 * page should not call out to a third party, and it falls back to system fonts.
 * `Referrer-Policy: same-origin` rather than `no-referrer`: with `no-referrer` a browser sends
 * `Origin: null` on a form post, and the origin check below could not tell our own forms from
 * another site's; `same-origin` still sends nothing to other sites.
 */
export function dashboardHeaders(): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
    xFrameOptions: 'DENY',
    referrerPolicy: 'same-origin',
    // Plain HTTP on a local port: HSTS would be ignored there, and wrong for a host name shared with other services.
    strictTransportSecurity: false,
  });
}

/**
 * Who may act through the dashboard. Hono's `csrf()` was the starting point, but it does not fit
 * as it is: it compares the Origin with the request's own URL, which a DNS-rebinding page
 * controls through the Host header; it passes any request whose content type a form cannot
 * send (bull-board's JSON routes), with no way to ask for a token; and it has no Referer
 * fallback. So, in this order:
 *
 * 1. Host: on a loopback address the Host header must name loopback too, so a page of
 *    `evil.example` whose name was re-pointed at 127.0.0.1 gets 403 for every request.
 * 2. Token on every request when bound elsewhere (the network can reach it): `?token=` once in
 *    the URL printed at start sets a cookie, and the page reloads without it.
 * 3. Every state-changing request (anything but GET, HEAD, OPTIONS; bull-board's API too):
 *    `Sec-Fetch-Site`, when the browser sends it, must be `same-origin`; the Origin (or, without
 *    one, the Referer) must be this dashboard's own; and the token must come with it, in the
 *    form's hidden field, the `x-troupe-token` header or the dashboard's cookie (`HttpOnly`,
 *    `SameSite=Strict`; bull-board's own requests carry it, as its maintainers advise for
 *    authentication in front of it).
 */
export function requestGuard(options: GuardOptions): MiddlewareHandler {
  const loopback = isLoopback(options.host);
  const expected = digest(options.token);
  const matches = (candidate: string | undefined) => candidate !== undefined && timingSafeEqual(digest(candidate), expected);
  // Named after the token, so dashboards on other ports of the same host keep their own cookie.
  const cookieName = `troupe_dashboard_${createHash('sha256').update(options.token).digest('hex').slice(0, 12)}`;

  return async (c, next) => {
    const host = c.req.header('host') ?? '';
    if (loopback && !isLoopback(hostName(host))) {
      return refuse(c, `the Host header names "${host}", not this machine's loopback address. Open the dashboard at the address it printed when it started.`);
    }
    const safe = /^(GET|HEAD|OPTIONS)$/.test(c.req.method);
    const fromCookie = getCookie(c, cookieName);
    const fromQuery = safe ? c.req.query('token') : undefined;
    let carried = matches(c.req.header(tokenHeader)) || matches(fromCookie) || matches(fromQuery);
    if (!carried && !safe) carried = matches(await formToken(c));

    if (!loopback && !carried) {
      return refuse(
        c,
        'this dashboard listens beyond this machine, so every request needs its token. Open the address with ?token= that it printed when it started (or the one in TROUPE_DASHBOARD_TOKEN).',
        401,
      );
    }
    if (!safe) {
      const problem = crossOrigin(c, host);
      if (problem) return refuse(c, problem);
      if (!carried)
        return refuse(
          c,
          "the request does not carry the dashboard's token. Submit the form from the dashboard's own page (reload it first if the dashboard was restarted).",
        );
    }
    if (fromQuery !== undefined && carried) {
      // Move the token from the address bar into the cookie, so it leaves no trace in history or logs.
      setTokenCookie(c, cookieName, options.token);
      const url = new URL(c.req.url);
      url.searchParams.delete('token');
      return c.redirect(`${url.pathname}${url.search}`, 303);
    }
    await next();
    if (safe && fromCookie !== options.token && (c.res.headers.get('content-type') ?? '').startsWith('text/html')) {
      setTokenCookie(c, cookieName, options.token);
    }
  };
}

/** Why a state-changing request is not from the dashboard's own pages, or undefined when it is. */
function crossOrigin(c: Context, host: string): string | undefined {
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin') return `the browser says this request came from another site (Sec-Fetch-Site: ${site}).`;
  const own = (value: string) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host;
    } catch {
      return false;
    }
  };
  const origin = c.req.header('origin');
  if (origin !== undefined) return own(origin) ? undefined : `the request came from another origin (${origin}), not from this dashboard (${host}).`;
  const referer = c.req.header('referer');
  if (referer !== undefined) return own(referer) ? undefined : 'the request came from a page of another origin (Referer), not from this dashboard.';
  return 'the request says neither where it came from (no Origin or Referer header) nor carries proof it came from this dashboard.';
}

async function formToken(c: Context): Promise<string | undefined> {
  const type = c.req.header('content-type') ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return undefined;
  // Hono caches the parsed body, so the route reads it again without a second parse.
  const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
  const value = form[tokenField];
  return typeof value === 'string' ? value : undefined;
}

function setTokenCookie(c: Context, name: string, token: string): void {
  // Encoded: a TROUPE_DASHBOARD_TOKEN with ";" or spaces must not add attributes (getCookie decodes it).
  c.header('Set-Cookie', `${name}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`, { append: true });
}

function hostName(host: string): string {
  // "[::1]:4000" → "[::1]"; "127.0.0.1:4000" → "127.0.0.1".
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '');
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function refuse(c: Context, why: string, status: 401 | 403 = 403): Response {
  return c.html(page('Refused', `<p>The dashboard refused this request: ${escapeHtml(why)}</p><p><a href="/">Back to the dashboard</a></p>`), status);
}
