import { existsSync } from 'node:fs';

/** Debian's Chromium, driven by playwright-core (no browser download); CHROMIUM_PATH overrides. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** CI sets TROUPE_REQUIRE_BROWSER=1 (and installs chromium): there a missing browser is a failure. */
export function browserAvailable(): boolean {
  if (existsSync(chromiumPath)) return true;
  if (process.env.TROUPE_REQUIRE_BROWSER === '1') throw new Error(`TROUPE_REQUIRE_BROWSER=1 but there is no browser at ${chromiumPath}.`);
  console.warn(`No browser at ${chromiumPath}: skipping the dashboard's browser tests (apt-get install chromium, or set CHROMIUM_PATH).`);
  return false;
}

/** The flags this sandbox needs: no sandbox as root, and no background calls to hosts it cannot reach. */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
