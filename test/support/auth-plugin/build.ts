import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { findBinary } from '../binaries.js'

const source = join(dirname(fileURLToPath(import.meta.url)), 'auth-plugin.c')

/** What compiling the plugin needs, as Debian packages them (.ci/run installs them). */
const NEEDS: ReadonlyArray<readonly [string, string]> = [
  ['/usr/include/mosquitto_broker.h', 'mosquitto-dev'],
  ['/usr/include/mosquitto.h', 'libmosquitto-dev'],
  ['/usr/include/openssl/evp.h', 'libssl-dev'],
  ['/usr/include/stdio.h', 'libc6-dev'],
]

/**
 * What is missing to build the test plugin (gcc, Mosquitto's plugin headers, OpenSSL's), as the Debian
 * packages to install; empty when nothing is. Under CI a test must fail on it rather than skip.
 */
export function authPluginMissing(): string[] {
  const missing = NEEDS.filter(([file]) => !existsSync(file)).map(([, pkg]) => pkg)
  if (!findBinary('gcc')) missing.unshift('gcc')
  return missing
}

/** A compiled auth plugin in a temporary folder; `dispose()` deletes it. */
export interface AuthPlugin {
  readonly path: string
  dispose(): Promise<void>
}

/**
 * Compiles test/support/auth-plugin/auth-plugin.c (SCRAM-SHA-256 for one user, and an expiring "token"
 * method) into a temporary folder, for `Mosquitto.start({ plugins: [{ path, options }] })`.
 *
 * @example
 * ```ts
 * const plugin = await buildAuthPlugin()
 * const broker = await Mosquitto.start({ plugins: [{ path: plugin.path, options: { username: 'u', password: 'p', token_secret: 's' } }] })
 * ```
 */
export async function buildAuthPlugin(): Promise<AuthPlugin> {
  const missing = authPluginMissing()
  if (missing.length > 0) throw new Error(`the test auth plugin cannot be built: apt-get install ${missing.join(' ')}`)
  const dir = await mkdtemp(join(tmpdir(), 'iotpubsub-auth-plugin-'))
  const path = join(dir, 'auth-plugin.so')
  try {
    await promisify(execFile)('gcc', ['-shared', '-fPIC', '-O2', '-Wall', '-Werror', '-o', path, source, '-lcrypto'])
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
  return { path, dispose: () => rm(dir, { recursive: true, force: true }) }
}
