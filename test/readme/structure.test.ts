// The README is the landing page: its shape, its links into docs/ and the facts it states about the package,
// checked against their sources; and the facts that moved from it into docs/, checked where they now live:
// docs/guide/install.md says what package.json and bench/size.ts say, the debug log's event table of
// docs/guide/troubleshooting.md lists exactly the events the library logs, contributor material is on the
// Development page. CHANGELOG.md keeps the Keep a Changelog layout.
import { existsSync, readFileSync } from 'node:fs'
import { join, normalize } from 'node:path'
import { describe, expect, it } from 'vitest'
import { anchor, headings, markdown, prose, readme, repoDir, section } from './readme-kit.js'

const manifest = JSON.parse(readFileSync(join(repoDir, 'package.json'), 'utf8')) as {
  engines: { node: string }
  peerDependencies: Record<string, string>
  dependencies: Record<string, string>
}

/** Every link of a markdown text, outside code blocks: its text and target. */
function links(text: string): Array<{ text: string; target: string }> {
  return [...prose(text).matchAll(/\[([^\]]*(?:\[[^\]]*\][^\]]*)?)\]\(([^)\s]+)\)/g)].map((m) => ({ text: m[1]!, target: m[2]! }))
}

/** The anchors of a markdown file's headings, as GitHub (and VitePress, for these pages) makes them. */
function anchors(text: string): Set<string> {
  return new Set([1, 2, 3, 4].flatMap((level) => headings(text, level)).map(anchor))
}

describe('README.md, the landing page', () => {
  it('is short, and reads in order: pitch, Install, Quick start (Node, Browser, React), what it does, the comparison, the docs', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(300)
    expect(headings(readme, 2)).toEqual(['Install', 'Quick start', 'What it does', 'Compared with MQTT.js, ngx-mqtt and mqtt-react-hooks', 'Documentation', 'Development'])
    expect(headings(section(readme, 'Quick start'), 3)).toEqual(['Node', 'Browser', 'React'])
    // The repository's two newcomer commands stay above the table of contents, said to do their own set-up;
    // contributor material is on the Development page.
    const contents = readme.indexOf('**Contents**')
    expect(readme.indexOf('npm install        # once')).toBeLessThan(contents)
    expect(readme.indexOf('npm run demo')).toBeLessThan(contents)
    expect(readme.indexOf('npm test')).toBeLessThan(contents)
    expect(readme.slice(0, contents)).toContain('Both do all their own set-up')
    expect(readme).not.toContain('apt-get install mosquitto mosquitto-clients chromium')
    expect(markdown('docs/development.md')).toContain('apt-get install mosquitto mosquitto-clients chromium rabbitmq-server nats-server docker-compose')
  })

  it('has a table of contents whose every link leads to a heading, and that names every section', () => {
    const contents = /^\*\*Contents\*\*:([\s\S]*?)\n\n/m.exec(readme)?.[1]
    expect(contents).toBeDefined()
    const toc = links(contents!)
    const own = anchors(readme)
    for (const link of toc.filter((l) => l.target.startsWith('#'))) expect(own, link.target).toContain(link.target.slice(1))
    expect(toc.map((l) => l.text)).toEqual([...headings(readme, 2), 'Changelog'])
    expect(toc.at(-1)?.target).toBe('CHANGELOG.md')
    // Every in-page link anywhere in the README, too.
    for (const { target } of links(readme).filter((l) => l.target.startsWith('#'))) expect(own, target).toContain(target.slice(1))
  })

  it('links into docs/ and the repository: every file exists, and every #anchor of a markdown file is one of its headings', () => {
    const local = links(readme).filter((l) => !/^(#|[a-z]+:)/.test(l.target))
    expect(local.filter((l) => l.target.startsWith('docs/')).length).toBeGreaterThan(20)
    for (const { target } of local) {
      const [path, hash] = target.split('#') as [string, string | undefined]
      const file = normalize(join(repoDir, path))
      expect(existsSync(file), target).toBe(true)
      if (hash !== undefined) {
        expect(path, target).toMatch(/\.md$/)
        expect(anchors(readFileSync(file, 'utf8')), target).toContain(hash)
      }
    }
    // Every guide of the site's sidebar is reachable from the README.
    const config = readFileSync(join(repoDir, 'docs/.vitepress/config.ts'), 'utf8')
    const pages = [...config.matchAll(/link: '\/((?:guide|start|migrate)\/[^']+)'/g)].map((m) => `docs/${m[1]}.md`)
    expect(pages.length).toBeGreaterThan(15)
    for (const page of pages) expect(local.map((l) => l.target.split('#')[0]), page).toContain(page)
  })

  it('Install says what package.json says', () => {
    expect(readme).toContain('```sh\nnpm install iotpubsub rxjs\n```')
    expect(manifest.peerDependencies.rxjs).toBe('^7.8.0')
    expect(readme).toContain('`rxjs` (7.8 or later) is a peer dependency')
    expect(manifest.engines.node).toBe('>=20.19')
    expect(readme).toContain('**Node.js 20.19 or later**')
    expect(readme).toContain('ESM only')
    expect((manifest as unknown as { type: string }).type).toBe('module')
  })

  it('compares with MQTT.js in figures that the Performance page holds', () => {
    const comparison = section(readme, 'Compared with MQTT.js, ngx-mqtt and mqtt-react-hooks')
    const performance = markdown('docs/guide/performance.md')
    // Each figure of the table's SDK and raw columns (µs, ms, msg/s, B) is one the Performance page states.
    const figures = [...comparison.matchAll(/\b(\d[\d,.–]*) ?(µs|msg\/s|B)\b/g)].map((m) => m[1]!)
    expect(figures.length).toBeGreaterThan(8)
    for (const figure of figures) expect(performance, figure).toContain(figure)
    expect(performance).toContain('37.78 KB')
    expect(comparison).toContain('37.8 KB')
  })
})

describe('docs/guide/install.md, where the requirements live', () => {
  const install = markdown('docs/guide/install.md')

  it('says what package.json says', () => {
    expect(install).toContain('```sh\nnpm install iotpubsub rxjs\n```')
    expect(install).toContain('`rxjs` (7.8 or later) is a peer dependency')
    expect(manifest.dependencies.mqtt).toMatch(/^\^5\./)
    expect(install).toContain('`mqtt` (MQTT.js 5) comes with the package')
    expect(install).toContain('**Node.js 20.19 or later**')
    expect(install).toContain('**ESM only.**')
    // No `require` condition anywhere in the exports: ESM only.
    expect(JSON.stringify((manifest as unknown as { exports: unknown }).exports)).not.toContain('"require"')
  })

  it('names the browser targets bench/size.ts measures the bundle for, as the README does', () => {
    const size = readFileSync(join(repoDir, 'bench/size.ts'), 'utf8')
    const targets = JSON.parse((/const TARGET = (\[[^\]]*\])/.exec(size)?.[1] ?? '[]').replaceAll("'", '"')) as string[]
    expect(targets).toEqual(['chrome107', 'edge107', 'firefox104', 'safari16'])
    for (const text of [install, readme]) expect(text.replace(/\s+/g, ' ')).toContain('Chrome 107, Edge 107, Firefox 104 and Safari 16')
  })
})

describe('docs/guide/troubleshooting.md, where the debug log lives', () => {
  it("lists exactly the events the library logs (lib/log/logger.ts's LogEvent)", () => {
    const source = readFileSync(join(repoDir, 'lib/log/logger.ts'), 'utf8')
    const union = /export type LogEvent =([\s\S]*?)(?:\n\n|$)/.exec(source)?.[1] ?? ''
    const events = [...union.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]!).sort()
    expect(events.length).toBeGreaterThan(10)
    const debugLog = section(markdown('docs/guide/troubleshooting.md'), 'The debug log')
    // The table's rows below its header (`| \`event\` | level | ... |`).
    const rows = [...debugLog.matchAll(/^\| (`[a-z-]+`(?:, `[a-z-]+`)*) \|/gm)].slice(1).flatMap((m) => [...m[1]!.matchAll(/`([a-z-]+)`/g)].map((e) => e[1]!))
    expect(rows.sort()).toEqual(events)
    // The exported type names the section gives.
    const exports = readFileSync(join(repoDir, 'lib/exports.ts'), 'utf8')
    expect(exports).toMatch(/export type \{ Logger, LogFields, LogEvent \}/)
    expect(debugLog).toContain('`Logger`, exported from the package with `LogFields` and `LogEvent`')
  })
})

describe('CHANGELOG.md', () => {
  const changelog = readFileSync(join(repoDir, 'CHANGELOG.md'), 'utf8')

  it('follows Keep a Changelog: Unreleased first, then released versions with dates, each with its kinds of change', () => {
    expect(changelog).toMatch(/^# Changelog\n/)
    expect(changelog).toContain('https://keepachangelog.com/en/1.1.0/')
    const versions = [...changelog.matchAll(/^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$/gm)].map((m) => ({ version: m[1]!, date: m[2] }))
    expect(versions[0]).toEqual({ version: 'Unreleased', date: undefined })
    expect(versions.slice(1).every((v) => /^\d+\.\d+\.\d+$/.test(v.version) && v.date !== undefined)).toBe(true)
    expect(versions.map((v) => v.version)).toContain((JSON.parse(readFileSync(join(repoDir, 'package.json'), 'utf8')) as { version: string }).version)
    const kinds = [...changelog.matchAll(/^### (.+)$/gm)].map((m) => m[1]!)
    expect(kinds.every((k) => ['Added', 'Changed', 'Deprecated', 'Removed', 'Fixed', 'Security'].includes(k))).toBe(true)
  })
})
