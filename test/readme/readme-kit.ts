// Helpers for the README and documentation tests: the marked code blocks and sections of the README and of
// docs/ (any markdown file of the repository), a throwaway user project in which `import ... from 'iotpubsub'`
// means this repository's sources, and user scripts run as their own processes.
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const repoDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

const texts = new Map<string, string>()

/**
 * The text of a markdown file of the repository, by its path from the repository's root (`README.md`,
 * `docs/guide/delivery.md`, ...), read once per test file.
 */
export function markdown(file: string): string {
  let text = texts.get(file)
  if (text === undefined) {
    text = readFileSync(join(repoDir, file), 'utf8')
    texts.set(file, text)
  }
  return text
}

export const readme = markdown('README.md')

/**
 * The code of the fenced block right after `<!-- NAME -->` in a markdown file of the repository (the README by
 * default; `quick-start:node`, `dashboards:shared`, ...), exactly as printed. Throws when the marker or its
 * block is missing, so that a renamed or moved marker fails loudly.
 */
export function block(name: string, file = 'README.md'): { lang: string; code: string } {
  const source = markdown(file)
  const marker = `<!-- ${name} -->\n`
  const at = source.indexOf(marker)
  if (at < 0) throw new Error(`${file} has no <!-- ${name} --> marker`)
  if (source.indexOf(marker, at + marker.length) >= 0) throw new Error(`${file} has <!-- ${name} --> twice`)
  const fence = /^```(\w*)\n([\s\S]*?)\n```$/m.exec(source.slice(at + marker.length))
  if (!fence || fence.index !== 0) throw new Error(`<!-- ${name} --> in ${file} is not followed by a fenced code block`)
  return { lang: fence[1] ?? '', code: `${fence[2]}\n` }
}

/** The lines of a marked text block, without empty ones. */
export function lines(name: string, file = 'README.md'): string[] {
  return block(name, file).code.split('\n').filter((l) => l.trim() !== '')
}

/** A markdown text with its fenced code blocks taken out: the prose and the headings. */
export function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```$/gm, '')
}

/** The headings of one level (2 for `## ...`) of a markdown text, outside code blocks. */
export function headings(text: string, level: number): string[] {
  return [...prose(text).matchAll(new RegExp(`^${'#'.repeat(level)} (.+)$`, 'gm'))].map((m) => m[1]!)
}

/** GitHub's anchor for a heading (VitePress makes the same of this repository's headings): lower case, punctuation dropped, spaces to hyphens. */
export function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-')
}

/**
 * The section of a markdown text that starts at the heading `TITLE` (of any level) and ends before the next
 * heading of that level or a higher one; lines inside fenced code blocks are not headings.
 */
export function section(text: string, title: string): string {
  const all = text.split('\n')
  let fenced = false
  let start = -1
  let level = 0
  for (let i = 0; i < all.length; i++) {
    const line = all[i]!
    if (/^\s*```/.test(line)) fenced = !fenced
    if (fenced) continue
    const heading = /^(#+) (.+)$/.exec(line)
    if (!heading) continue
    if (start < 0 && heading[2] === title) {
      start = i
      level = heading[1]!.length
    } else if (start >= 0 && heading[1]!.length <= level) {
      return all.slice(start, i).join('\n')
    }
  }
  if (start < 0) throw new Error(`no heading "${title}"`)
  return all.slice(start).join('\n')
}

/**
 * A user's project in a temporary folder: `"type": "module"`, and `node_modules/iotpubsub` a package whose
 * `exports` lead to this repository's `lib/node.ts` (Node) and `lib/browser.ts` (browsers, bundlers). The
 * sources are TypeScript, so scripts run under Node with tsx's loader (`nodeArgs`); `lib/` is a symlink, so
 * mqtt and rxjs resolve from the repository's own node_modules.
 */
export async function userProject(): Promise<{ dir: string; dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'iotpubsub-readme-'))
  const pkg = join(dir, 'node_modules', 'iotpubsub')
  await mkdir(pkg, { recursive: true })
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: 'quick-start', private: true, type: 'module' }, null, 2)}\n`)
  await writeFile(
    join(pkg, 'package.json'),
    `${JSON.stringify({ name: 'iotpubsub', type: 'module', exports: { '.': { node: './lib/node.ts', default: './lib/browser.ts' } } }, null, 2)}\n`,
  )
  await symlink(join(repoDir, 'lib'), join(pkg, 'lib'), 'dir')
  return { dir, dispose: () => rm(dir, { recursive: true, force: true }) }
}

/**
 * `node_modules` for a type-check project: every package of the repository's node_modules linked in, except
 * `iotpubsub`, which the caller provides.
 */
export async function linkNodeModules(dir: string): Promise<void> {
  const target = join(dir, 'node_modules')
  await mkdir(target, { recursive: true })
  for (const entry of await readdir(join(repoDir, 'node_modules'))) {
    if (entry === 'iotpubsub' || entry.startsWith('.')) continue
    await symlink(join(repoDir, 'node_modules', entry), join(target, entry), 'dir')
  }
}

/** `node --import <tsx>`: how a user script in `userProject()` runs (it reaches lib/'s TypeScript sources). */
export const nodeArgs = ['--import', pathToFileURL(join(repoDir, 'node_modules/tsx/dist/loader.mjs')).href]
/** The tsx CLI, as `npx tsx` runs it. */
export const tsxCli = join(repoDir, 'node_modules/tsx/dist/cli.mjs')
/** The repository's TypeScript compiler. */
export const tsc = join(repoDir, 'node_modules/typescript/bin/tsc')

/**
 * The environment a user's shell would give: the test runner's own variables that change what a script does
 * (IOTPUBSUB_DEBUG, MQTT_*, NODE_OPTIONS, vitest's) are left out, then `extra` is added.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(IOTPUBSUB_|MQTT_|VITEST|NODE_OPTIONS$|NODE_ENV$|TEST$)/.test(key)) continue
    env[key] = value
  }
  return { ...env, ...extra }
}

export interface Script {
  readonly child: ChildProcess
  readonly stdout: string[]
  readonly stderr: string[]
  /**
   * Resolves with the first line (on stdout or stderr, as `stream`) that matches, past or future, skipping the
   * first `from` lines of `stream`; rejects after `ms` or when the process exits first.
   */
  line(pattern: RegExp, stream?: 'stdout' | 'stderr', ms?: number, from?: number): Promise<string>
  /** Resolves with the exit code once the process has exited by itself; kills it and rejects after `ms`. */
  exit(ms?: number): Promise<number | null>
}

/** Runs a command as a user would; its output is read line by line. Stop strays with `stopAll()`. */
export function start(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Script {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  const out: Record<'stdout' | 'stderr', string[]> = { stdout: [], stderr: [] }
  const waiters = new Set<Waiter>()
  for (const stream of ['stdout', 'stderr'] as const) {
    createInterface({ input: child[stream] as NodeJS.ReadableStream }).on('line', (text) => {
      out[stream].push(text)
      for (const waiter of waiters) {
        if ((waiter.stream === undefined || waiter.stream === stream) && waiter.pattern.test(text)) {
          waiters.delete(waiter)
          waiter.done(text)
        }
      }
    })
  }
  // 'close': the process has exited and both pipes are drained, so every line has been read.
  const closed = new Promise<number | null>((done) => child.once('close', (code) => done(code)))
  void closed.then(() => running.delete(child))
  const describe = () => `stdout ${JSON.stringify(out.stdout)}, stderr ${JSON.stringify(out.stderr)}`
  const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
    new Promise<T>((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}; ${describe()}`)), ms)
      promise.then(resolvePromise, reject).finally(() => clearTimeout(timer))
    })
  return {
    child,
    stdout: out.stdout,
    stderr: out.stderr,
    line: (pattern, stream, ms = 15_000, from = 0) => {
      const seen = (stream ? out[stream].slice(from) : [...out.stdout, ...out.stderr]).find((l) => pattern.test(l))
      if (seen !== undefined) return Promise.resolve(seen)
      let waiter!: Waiter
      const found = new Promise<string>((done) => {
        waiter = { pattern, stream, done }
        waiters.add(waiter)
      })
      const exited = closed.then(() => {
        throw new Error(`the process exited before printing ${pattern}; ${describe()}`)
      })
      return within(Promise.race([found, exited]), ms, `a line matching ${pattern}`).finally(() => waiters.delete(waiter))
    },
    exit: (ms = 15_000) =>
      within(closed, ms, 'the process to exit by itself').catch((error: unknown) => {
        child.kill('SIGKILL')
        throw error
      }),
  }
}

interface Waiter {
  readonly pattern: RegExp
  readonly stream: 'stdout' | 'stderr' | undefined
  readonly done: (line: string) => void
}

const running = new Set<ChildProcess>()

/** Kills whatever a failed test left running. */
export function stopAll(): void {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
}
