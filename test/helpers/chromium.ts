// The one way tests start a browser: Debian's Chromium through playwright-core.
import { chromium, type Browser } from 'playwright-core'

/** Debian's Chromium through playwright-core, without anything that talks to the network on its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  })
}
