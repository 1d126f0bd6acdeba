// The documentation site as a reader gets it: `npm run docs:build`'s two steps (the API reference from the
// published .d.ts, then VitePress) into a temporary folder, served by a static server and opened in Chromium.
// Every page must render its content without a console error or page error; every internal link must lead to
// a page (or file) of the site, and its #anchor to an element of that page; the local search must find
// `keepalive` and `NotAuthorizedError`. The API reference must document every public symbol of every entry,
// with no gap.
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, noChromium } from '../support/chromium.js'
import { cleanEnv, run, serveStatic } from '../package/package-kit.js'
import { repoDir } from '../readme/readme-kit.js'
import { docsDir } from './docs-kit.js'

const tsxCli = join(repoDir, 'node_modules/tsx/dist/cli.mjs')
const vitepressCli = join(repoDir, 'node_modules/vitepress/bin/vitepress.js')

interface Visit {
  readonly path: string
  readonly ids: ReadonlySet<string>
  readonly links: readonly string[]
  readonly problems: readonly string[]
  readonly text: string
}

/** Opens one page in a tab of its own, waits for VitePress to have rendered it, and collects its ids, links and console errors. */
async function visit(context: BrowserContext, origin: string, path: string): Promise<Visit> {
  const page: Page = await context.newPage()
  const problems: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`)
  })
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`))
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`)
  })
  try {
    await page.goto(`${origin}${path}`, { waitUntil: 'load' })
    // Hydrated: the app is mounted and the page's content is in it.
    await page.waitForFunction(() => document.querySelector('#app .VPContent') !== null && (document.querySelector('#app') as HTMLElement & { __vue_app__?: unknown }).__vue_app__ !== undefined, undefined, { timeout: 15_000 })
    const found = await page.evaluate(() => ({
      ids: [...document.querySelectorAll('[id]')].map((e) => e.id),
      links: [...document.querySelectorAll('a[href]')].map((a) => (a as HTMLAnchorElement).href),
      text: (document.querySelector('.VPContent') as HTMLElement | null)?.innerText ?? '',
    }))
    return { path, ids: new Set(found.ids), links: found.links, problems, text: found.text }
  } finally {
    await page.close()
  }
}

/** Every .html file of the built site, as the path a browser asks for. */
async function sitePages(outDir: string): Promise<string[]> {
  const entries = await readdir(outDir, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.html') && e.name !== '404.html')
    .map((e) => `/${join(e.parentPath, e.name).slice(outDir.length + 1)}`.replace(/(^|\/)index\.html$/, '$1'))
    .sort()
}

describe.skipIf(noChromium())('the documentation site', () => {
  let outDir: string
  let api: { code: number; stdout: string; stderr: string }
  let server: { url: string; close(): Promise<void> }
  let browser: Browser
  const visits = new Map<string, Visit>()

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'iotpubsub-docs-site-'))
    api = await run(process.execPath, [tsxCli, join(docsDir, 'scripts/api.ts')], { cwd: repoDir, timeoutMs: 180_000, env: cleanEnv() })
    if (api.code !== 0) throw new Error(`the API reference failed:\n${api.stdout}\n${api.stderr}`)
    const build = await run(process.execPath, [vitepressCli, 'build', 'docs', '--outDir', outDir], { cwd: repoDir, timeoutMs: 240_000, env: cleanEnv() })
    if (build.code !== 0) throw new Error(`vitepress build failed:\n${build.stdout}\n${build.stderr}`)
    server = await serveStatic(outDir)
    browser = await launchChromium()
    const pages = await sitePages(outDir)
    // Tabs of one browser context, as one reader opens them: a context per page would also start a renderer
    // process and a fresh profile for each, as much work again as the pages. Each tab has listeners of its own,
    // so an error is still booked to the page that raised it.
    const context = await browser.newContext()
    // A few pages at a time (the site is static), each lane taking the next page as soon as its last is done.
    const found: Visit[] = []
    let next = 0
    const lane = async (): Promise<void> => {
      for (let i = next++; i < pages.length; i = next++) found[i] = await visit(context, server.url, pages[i]!)
    }
    await Promise.all([lane(), lane(), lane(), lane()])
    await context.close()
    for (const v of found) visits.set(v.path, v)
  }, 540_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    if (outDir) await rm(outDir, { recursive: true, force: true })
  })

  it('documents every public symbol, with no gap', () => {
    expect(api.stdout).toMatch(/api: \d+ symbols in docs\/api\//)
    expect(api.stderr).not.toMatch(/^api: /m)
    for (const entry of ['iotpubsub', 'iotpubsub-in-Node', 'iotpubsub/shared', 'iotpubsub/react', 'iotpubsub/vue']) {
      expect(existsSync(join(outDir, 'api', entry, 'index.html')), entry).toBe(true)
    }
    for (const symbol of ['functions/connect', 'interfaces/MQTTClient', 'classes/NotAuthorizedError', 'interfaces/ClientOptions', 'interfaces/ClearedMessage', 'functions/acknowledge']) {
      expect(existsSync(join(outDir, 'api/iotpubsub', `${symbol}.html`)), symbol).toBe(true)
    }
    for (const symbol of ['react/functions/useTopic', 'react/functions/MqttProvider', 'vue/functions/useTopic', 'vue/variables/MQTT_CLIENT', 'shared/functions/connect']) {
      expect(existsSync(join(outDir, 'api/iotpubsub', `${symbol}.html`)), symbol).toBe(true)
    }
  })

  it('renders every page without a console error', () => {
    expect(visits.size).toBeGreaterThan(60)
    const problems = [...visits.values()].flatMap((v) => v.problems.map((p) => `${v.path}: ${p}`))
    expect(problems).toEqual([])
    const empty = [...visits.values()].filter((v) => v.path !== '/' && v.text.trim().length < 40).map((v) => v.path)
    expect(empty).toEqual([])
  })

  it('has every internal link lead to a page of the site, and every anchor to an element of it', async () => {
    const broken: string[] = []
    for (const v of visits.values()) {
      for (const href of new Set(v.links)) {
        const url = new URL(href)
        if (url.origin !== server.url) continue
        const target = url.pathname.endsWith('/') ? url.pathname : url.pathname.replace(/\/index\.html$/, '/')
        const page = visits.get(target)
        if (!page) {
          // Not a page: an asset of the site, which must exist.
          const file = join(outDir, decodeURIComponent(url.pathname))
          if (!existsSync(file)) broken.push(`${v.path} → ${href}`)
          continue
        }
        const anchor = decodeURIComponent(url.hash.slice(1))
        if (anchor && !page.ids.has(anchor)) broken.push(`${v.path} → ${href} (no element #${anchor})`)
      }
    }
    expect(broken).toEqual([])
    // The check reaches far: the guides link to each other and into the reference.
    const links = [...visits.values()].reduce((n, v) => n + v.links.length, 0)
    expect(links).toBeGreaterThan(1000)
  })

  it.each(['keepalive', 'NotAuthorizedError'])('finds %s with the local search', async (term) => {
    const page = await browser.newPage()
    try {
      await page.goto(`${server.url}/`, { waitUntil: 'load' })
      await page.locator('.VPNavBarSearch button').first().click()
      const input = page.locator('.VPLocalSearchBox input')
      await input.fill(term)
      const results = page.locator('.VPLocalSearchBox .results li a')
      await results.first().waitFor({ timeout: 10_000 })
      // Each result leads to a section of a page; the pages of the first results hold the term.
      const hrefs = await results.evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).href))
      expect(hrefs.length).toBeGreaterThan(0)
      const holding = hrefs.slice(0, 5).filter((href) => {
        const path = new URL(href).pathname
        return visits.get(path.endsWith('/') ? path : path.replace(/\/index\.html$/, '/'))?.text.toLowerCase().includes(term.toLowerCase())
      })
      expect(holding.length, `results: ${hrefs.slice(0, 5).join(', ')}`).toBeGreaterThan(0)
    } finally {
      await page.close()
    }
  })
})
