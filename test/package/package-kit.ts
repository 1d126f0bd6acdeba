// Helpers for the package tests: pack the SDK as `npm pack` does, install the tarball into a fresh project
// in a temporary folder, run commands there. Nothing here imports the SDK: the fresh projects do.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, extname, join, normalize, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { closeServer } from '../support/close-server.js'

export const repoDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const fixturesDir = join(repoDir, 'test/package/fixtures')

const requireFromRepo = createRequire(join(repoDir, 'package.json'))

/**
 * The exact version the repository itself has installed (from its lock file), so the fresh projects get
 * the same major and npm finds the package in its cache instead of fetching it.
 */
export function repoVersion(name: string): string {
  return (requireFromRepo(`${name}/package.json`) as { version: string }).version
}

/**
 * The environment for npm and node in a fresh project. Under `npm test` npm exports `npm_config_*`,
 * `npm_package_*` and `INIT_CWD` for the repository; `npm_config_local_prefix` alone would make
 * `npm install` in the temporary folder install into the repository. Only cache, registry and user config
 * settings are passed on.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig'])
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'INIT_CWD' || key === 'NODE_OPTIONS' || key.startsWith('VITEST') || key === 'TEST' || key === 'NODE_ENV') continue
    if (key.toLowerCase().startsWith('npm_') && !keep.has(key.toLowerCase())) continue
    env[key] = value
  }
  return { ...env, npm_config_update_notifier: 'false', ...extra }
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs a command to completion; never rejects on a non-zero exit (the caller asserts on `code`). */
export function run(command: string, args: string[], options: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env ?? cleanEnv(), timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(Object.assign(error, { stdout, stderr }))
        resolvePromise({ code: error ? Number(error.code) : 0, stdout, stderr })
      },
    )
  })
}

/** Like `run`, but throws with the command's output when it exits non-zero. */
export async function runOk(command: string, args: string[], options: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  const result = await run(command, args, options)
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${options.cwd}) exited with ${result.code}\n${result.stdout}\n${result.stderr}`)
  }
  return result
}

/** Waits for every promise to settle, then throws the first failure: nothing is left starting in the background. */
export async function allStarted(promises: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises)
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
}

/** What goes into the pack copy: the package's build inputs and the files npm always ships. */
const PACK_INPUTS = /^(package\.json|tsconfig[^/]*\.json|lib|(README|LICEN[CS]E|LICENCE|CHANGELOG|NOTICE)(\.[^/]*)?|\.npmignore)$/i

export interface Packed {
  /** Temporary folder holding the pack copy, the tarball and the fresh projects; delete with `dispose`. */
  dir: string
  tarball: string
  /** Paths inside the tarball, without the `package/` prefix. */
  files: string[]
  /** The package.json as published. */
  manifest: Record<string, unknown>
  dispose(): Promise<void>
}

/**
 * `npm pack` of the SDK, its `prepack` script (the build) included. It runs in a copy of the package's
 * build inputs (package.json, tsconfig*.json, lib/, README/LICENSE) with the repository's node_modules
 * linked in, not in the repository itself: `prepack` starts with `rm -rf dist`, and two test files (or an
 * engineer's own `npm run build`) packing in one folder at the same time would race on dist/.
 */
export async function pack(): Promise<Packed> {
  const dir = await mkdtemp(join(tmpdir(), 'iotpubsub-package-'))
  const dispose = () => rm(dir, { recursive: true, force: true })
  try {
    const source = join(dir, 'source')
    await mkdir(source)
    for (const entry of await readdir(repoDir)) {
      if (PACK_INPUTS.test(entry)) await cp(join(repoDir, entry), join(source, entry), { recursive: true })
    }
    await symlink(join(repoDir, 'node_modules'), join(source, 'node_modules'), 'dir')
    await runOk('npm', ['pack', '--pack-destination', dir, '--loglevel', 'warn'], { cwd: source })
    const tarballs = (await readdir(dir)).filter((f) => f.endsWith('.tgz'))
    if (tarballs.length !== 1) throw new Error(`npm pack made ${tarballs.length} tarballs: ${tarballs.join(', ')}`)
    const tarball = join(dir, tarballs[0]!)
    const listing = await runOk('tar', ['-tzf', tarball], { cwd: dir })
    const files = listing.stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, '')).sort()
    const manifest = JSON.parse((await runOk('tar', ['-xzOf', tarball, 'package/package.json'], { cwd: dir })).stdout) as Record<string, unknown>
    return { dir, tarball, files, manifest, dispose }
  } catch (error) {
    await dispose()
    throw error
  }
}

/**
 * A fresh project in `dir`: `package.json` with `"type": "module"`, the fixture folders' files copied in, then
 * `npm install` of `packages` (the tarball and the app's other dependencies) from the npm cache where it can.
 */
export async function freshProject(dir: string, options: { fixtures: string[]; packages: string[] }): Promise<string> {
  await mkdir(dir, { recursive: true })
  for (const fixture of options.fixtures) await cp(join(fixturesDir, fixture), dir, { recursive: true })
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: 'fresh-app', private: true, type: 'module' }, null, 2)}\n`)
  await runOk('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel', 'error', ...options.packages], { cwd: dir })
  return dir
}

/** Every file under `dir`, relative to it. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort()
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
}

/** A static file server for a built app on 127.0.0.1 and a free port. */
export async function serveStatic(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path))
    if (!file.startsWith(root)) {
      res.writeHead(403).end()
      return
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end('not found'),
    )
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const address = server.address()
  if (!address || typeof address !== 'object') throw new Error('no address')
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => closeServer(server),
  }
}

/** A long-running child (a dev server) that resolves once its output matches `ready`. */
export async function startServer(
  command: string,
  args: string[],
  options: { cwd: string; ready: RegExp; timeoutMs?: number },
): Promise<{ child: ChildProcess; output: () => string; stop(): Promise<void> }> {
  const child = spawn(command, args, { cwd: options.cwd, env: cleanEnv({ NO_COLOR: '1', FORCE_COLOR: '0' }), stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((done) => child.once('exit', () => done()))
    child.kill('SIGTERM')
    await exited
  }
  await new Promise<void>((resolvePromise, reject) => {
    const timer = setTimeout(() => fail(new Error(`timed out waiting for ${options.ready}`)), options.timeoutMs ?? 30_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (options.ready.test(output)) {
        clearTimeout(timer)
        resolvePromise()
      }
    }
    const fail = (error: Error) => {
      clearTimeout(timer)
      void stop()
      reject(new Error(`${command} ${args.join(' ')}: ${error.message}\n${output}`))
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => fail(new Error(`exited with ${code}`)))
  })
  return { child, output: () => output, stop }
}
