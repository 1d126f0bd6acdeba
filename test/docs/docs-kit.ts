// Helpers for the documentation tests: the site's pages and their fenced code blocks, with the markers that
// say what a test does with a block.
//
//   <!-- docs:run -->            the next block runs under Node against a real Mosquitto (test/docs/runnable)
//   <!-- docs:output -->         the next (text) block lists lines the run blocks before it print
//   <!-- docs:skip REASON -->    the next block is not compiled, for the reason given
//
// Every other ```ts or ```tsx block of a guide is compiled with tsc, strict (test/docs/code-blocks).
import { readFileSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { repoDir } from '../readme/readme-kit.js'

export const docsDir = join(repoDir, 'docs')

/** The hand-written pages: every .md under docs/ except the generated API reference and the build's own folders. */
export function guidePages(): string[] {
  const entries = readdirSync(docsDir, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.md'))
    .map((e) => relative(docsDir, join(e.parentPath, e.name)))
    .filter((path) => !path.startsWith('api/') && !path.startsWith('.vitepress/') && !path.startsWith('scripts/'))
    .sort()
}

export interface Block {
  /** The page, relative to docs/. */
  readonly page: string
  /** The line of the opening fence (1-based). */
  readonly line: number
  /** `ts`, `tsx`, `text`, ... as written after the fence. */
  readonly lang: string
  readonly code: string
  /** The marker on the line before the fence, if any: `run`, `output` or `skip`. */
  readonly marker: 'run' | 'output' | 'skip' | undefined
  /** The text after `docs:skip`. */
  readonly reason: string
}

const MARKER = /^\s*<!--\s*docs:(run|output|skip)\b\s*(.*?)\s*-->\s*$/

/** The fenced blocks of one page, in order. */
export function blocks(page: string): Block[] {
  const lines = readFileSync(join(docsDir, page), 'utf8').split('\n')
  const found: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})(\w*)(?:\s*\[[^\]]*\])?\s*$/.exec(lines[i]!)
    if (!open) continue
    const [, indent, fence, lang] = open
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length && !new RegExp(`^\\s*${fence}\\s*$`).test(lines[j]!); j++) body.push(lines[j]!.slice(indent!.length))
    const marker = MARKER.exec(lines[i - 1] ?? '')
    found.push({
      page,
      line: i + 1,
      lang: lang ?? '',
      code: `${body.join('\n')}\n`,
      marker: marker ? (marker[1] as Block['marker']) : undefined,
      reason: marker?.[2] ?? '',
    })
    i = j
  }
  return found
}

export const isTypeScript = (block: Block): boolean => ['ts', 'tsx', 'typescript'].includes(block.lang)

/**
 * The runnable blocks of every page, each with the lines the `docs:output` block after it expects (shared by
 * the run blocks between two output blocks: the two sides of a migration guide print the same).
 */
export function runnableBlocks(): Array<Block & { expected: string[] }> {
  const runnable: Array<Block & { expected: string[] }> = []
  for (const page of guidePages()) {
    let pending: Array<Block & { expected: string[] }> = []
    for (const block of blocks(page)) {
      if (block.marker === 'run') {
        const entry = { ...block, expected: [] as string[] }
        pending.push(entry)
        runnable.push(entry)
      } else if (block.marker === 'output') {
        const expected = block.code.split('\n').filter((l) => l.trim() !== '')
        for (const entry of pending) entry.expected = expected
        pending = []
      }
    }
  }
  return runnable
}
