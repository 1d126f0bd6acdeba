// The README's shape and the facts it states about the package, checked against their sources: the table of
// contents leads to real headings in the order users read them, Install and Requirements say what
// package.json and bench/size.ts say, the Debug log's event table lists exactly the events the library logs,
// and CHANGELOG.md keeps the Keep a Changelog layout.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readme, repoDir } from './readme-kit.js'

const manifest = JSON.parse(readFileSync(join(repoDir, 'package.json'), 'utf8')) as {
  engines: { node: string }
  peerDependencies: Record<string, string>
  dependencies: Record<string, string>
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-')
}

/** The README's headings outside code blocks. */
function headings(level: number): string[] {
  const prose = readme.replace(/^```[\s\S]*?^```$/gm, '')
  return [...prose.matchAll(new RegExp(`^${'#'.repeat(level)} (.+)$`, 'gm'))].map((m) => m[1]!)
}

describe('README.md', () => {
  it('reads in order: pitch, Install, Requirements, Quick start, ..., Development last', () => {
    const sections = headings(2)
    expect(sections.slice(0, 3)).toEqual(['Install', 'Requirements', 'Quick start'])
    expect(sections.at(-1)).toBe('Development')
    for (const kept of ['The demo dashboard', 'API', 'Debug log', 'Node services', 'Guarantees', 'Delivery guarantees', 'Scaling out', 'Performance', 'The broker kit']) {
      expect(sections).toContain(kept)
    }
    // The repository's two newcomer commands stay above the table of contents; contributor material is below.
    const contents = readme.indexOf('**Contents**')
    expect(readme.indexOf('npm run demo')).toBeLessThan(contents)
    expect(readme.indexOf('npm test')).toBeLessThan(contents)
    expect(readme.indexOf('apt-get install mosquitto mosquitto-clients chromium')).toBeGreaterThan(readme.indexOf('## Development'))
  })

  it('has a table of contents whose every link leads to a heading, and that names every section', () => {
    const contents = /^\*\*Contents\*\*:([\s\S]*?)\n\n/m.exec(readme)?.[1]
    expect(contents).toBeDefined()
    const links = [...contents!.matchAll(/\[([^\]]+)\]\(([^)]+)\)/g)].map((m) => ({ text: m[1]!, target: m[2]! }))
    const anchors = new Set([...headings(2), ...headings(3)].map(anchor))
    for (const link of links.filter((l) => l.target.startsWith('#'))) expect(anchors, link.target).toContain(link.target.slice(1))
    expect(links.map((l) => l.text)).toEqual([...headings(2), 'Changelog'])
    expect(links.at(-1)?.target).toBe('CHANGELOG.md')
    // Every in-page link anywhere in the README, too.
    for (const [, target] of readme.matchAll(/\]\((#[^)]+)\)/g)) expect(anchors, target).toContain(target!.slice(1))
  })

  it('Install and Requirements say what package.json says', () => {
    expect(readme).toContain('```sh\nnpm install iotpubsub rxjs\n```')
    expect(manifest.peerDependencies.rxjs).toBe('^7.8.0')
    expect(readme).toContain('`rxjs` (7.8 or later) is a peer dependency')
    expect(manifest.dependencies.mqtt).toMatch(/^\^5\./)
    expect(manifest.engines.node).toBe('>=20.19')
    expect(readme).toContain('**Node.js 20.19 or later**')
    expect((manifest as unknown as { type: string }).type).toBe('module')
    // No `require` condition anywhere in the exports: ESM only.
    expect(JSON.stringify((manifest as unknown as { exports: unknown }).exports)).not.toContain('"require"')
  })

  it('names the browser targets bench/size.ts measures the bundle for', () => {
    const size = readFileSync(join(repoDir, 'bench/size.ts'), 'utf8')
    const targets = JSON.parse((/const TARGET = (\[[^\]]*\])/.exec(size)?.[1] ?? '[]').replaceAll("'", '"')) as string[]
    expect(targets).toEqual(['chrome107', 'edge107', 'firefox104', 'safari16'])
    expect(readme).toContain('Chrome 107, Edge 107,\n  Firefox 104 and Safari 16')
  })

  it("lists in Debug log exactly the events the library logs (lib/log/logger.ts's LogEvent)", () => {
    const source = readFileSync(join(repoDir, 'lib/log/logger.ts'), 'utf8')
    const union = /export type LogEvent =([\s\S]*?)(?:\n\n|$)/.exec(source)?.[1] ?? ''
    const events = [...union.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]!).sort()
    expect(events.length).toBeGreaterThan(10)
    const section = readme.slice(readme.indexOf('## Debug log'), readme.indexOf('## Node services'))
    // The table's rows below its header (`| \`event\` | level | ... |`).
    const rows = [...section.matchAll(/^\| (`[a-z-]+`(?:, `[a-z-]+`)*) \|/gm)].slice(1).flatMap((m) => [...m[1]!.matchAll(/`([a-z-]+)`/g)].map((e) => e[1]!))
    expect(rows.sort()).toEqual(events)
    // The exported type names the section gives.
    const exports = readFileSync(join(repoDir, 'lib/exports.ts'), 'utf8')
    expect(exports).toMatch(/export type \{ Logger, LogFields, LogEvent \}/)
    expect(section).toContain('`Logger`, exported from the package with `LogFields` and `LogEvent`')
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
