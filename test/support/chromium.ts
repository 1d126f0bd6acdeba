import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

/** Debian's chromium package. Tests never download a browser (`npx playwright install` is not used). */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Flags that keep a headless run quiet, offline (apart from the page under test) and container-safe. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
]

/** Launches the system chromium with playwright-core. Close it in `afterAll`. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true })
}

/**
 * True when a suite that needs chromium must be skipped. In CI (`CI` set) a missing chromium is never a
 * skip: the suite runs and fails. Locally the skip is announced loudly, so nobody mistakes it for a pass.
 */
export function noChromium(): boolean {
  if (existsSync(chromiumPath)) return false
  if (process.env.CI) return false
  process.stderr.write(
    `\n!!! SKIPPING browser tests: ${chromiumPath} is not installed. Install it: apt-get install chromium\n` +
      `!!! (With CI=true these tests run and fail instead of skipping.)\n\n`,
  )
  return true
}
