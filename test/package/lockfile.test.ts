// package-lock.json is in sync with package.json: a fresh clone's `npm install` must not rewrite it (it
// did: the lock's root entry still had the old `engines` and no `peerDependencies`), and `npm ci` in CI
// installs exactly what the lock says. Offline: a lock-only install of a complete lock fetches nothing.
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanEnv, repoDir, runOk } from './package-kit.js'

type Manifest = Record<string, unknown>

const readJson = async (file: string): Promise<Manifest> => JSON.parse(await readFile(file, 'utf8')) as Manifest

// The fields npm copies from package.json into the lock's root entry (packages[""]).
const ROOT_FIELDS = ['name', 'version', 'license', 'dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies', 'engines', 'bin']

describe('package-lock.json', () => {
  let manifest: Manifest
  let lockText: string
  let dir: string

  beforeAll(async () => {
    manifest = await readJson(join(repoDir, 'package.json'))
    lockText = await readFile(join(repoDir, 'package-lock.json'), 'utf8')
    dir = await mkdtemp(join(tmpdir(), 'iotpubsub-lockfile-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it("has package.json's dependencies, engines and peers in its root entry", () => {
    const lock = JSON.parse(lockText) as { lockfileVersion: number; packages: Record<string, Manifest> }
    expect(lock.lockfileVersion).toBe(3)
    const root = lock.packages['']!
    const pick = (source: Manifest) => Object.fromEntries(ROOT_FIELDS.filter((f) => source[f] !== undefined).map((f) => [f, source[f]]))
    expect(pick(root)).toEqual(pick(manifest))
  })

  it('is left byte for byte unchanged by `npm install --package-lock-only` (offline, empty cache)', async () => {
    await copyFile(join(repoDir, 'package.json'), join(dir, 'package.json'))
    await copyFile(join(repoDir, 'package-lock.json'), join(dir, 'package-lock.json'))
    // --offline with an empty cache: a lock that satisfies package.json needs no registry; one that does not
    // fails here with ENOTCACHED, or is rewritten and fails the comparison below.
    await runOk(
      'npm',
      ['install', '--package-lock-only', '--ignore-scripts', '--offline', '--no-audit', '--no-fund', '--loglevel', 'error', '--cache', join(dir, 'cache')],
      { cwd: dir, timeoutMs: 20_000, env: cleanEnv() },
    )
    expect(await readFile(join(dir, 'package-lock.json'), 'utf8')).toBe(lockText)
  })
})
