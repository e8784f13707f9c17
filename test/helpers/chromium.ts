// A real headless Chromium for the pages people see. .ci/run installs Debian's chromium; elsewhere
// the suites that need it are skipped.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A third-party app's callback that just says where the browser landed. */
export async function startLandingApp(): Promise<{ url: string; close(): Promise<void> }> {
  const app = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`landed ${req.url}`);
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(app.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => app.close(() => resolve())),
  };
}
