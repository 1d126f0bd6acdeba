// The stand-in for the kit's pinned `eclipse-mosquitto` image, made offline from Debian's packages: no container
// registry is reachable from the test machines, so the image the kit's compose file names is built here with
// the same contract (tag, `mosquitto` user uid/gid 1883, /mosquitto/{config,data,log}, an entrypoint that chowns
// /mosquitto when started as root, the same default command), cached as a `docker save` tarball, and pushed to
// the engine's loopback registry mirror when it has one, so that `docker compose pull` works unchanged.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { kitDir } from './mosquitto.js'

/** The image `mosquitto/docker-compose.yml` pins, e.g. `eclipse-mosquitto:2.0.22`. */
export const pinnedImage: string = (() => {
  const match = /^\s+image:\s*(\S+)\s*$/m.exec(readFileSync(join(kitDir, 'docker-compose.yml'), 'utf8'))
  if (!match?.[1]) throw new Error('mosquitto/docker-compose.yml names no image')
  return match[1]
})()

/** Debian 13: its mosquitto (2.0.21) is the nearest to the pinned 2.0.22; openssl for the system-install test. */
const SUITE = 'trixie'
const PACKAGES = ['mosquitto', 'mosquitto-clients', 'openssl']
const MIRROR = process.env.IOTPUBSUB_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian'

/** The image's entrypoint, as eclipse-mosquitto's: chown /mosquitto (errors printed, not fatal) when root. */
const ENTRYPOINT = `#!/bin/sh
set -e
user="$(id -u)"
if [ "$user" = '0' ]; then
  [ -d "/mosquitto" ] && chown -R mosquitto:mosquitto /mosquitto || true
fi
exec "$@"
`
const DEFAULT_CONF = '# The image default: listener 1883 for local clients only (mosquitto 2.0 local-only mode).\n'
const CHANGES = [
  'ENTRYPOINT ["/docker-entrypoint.sh"]',
  'CMD ["/usr/sbin/mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]',
  'EXPOSE 1883',
  'VOLUME ["/mosquitto/data", "/mosquitto/log"]',
  'LABEL org.iotpubsub.standin=debian-trixie-mosquitto',
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
]
/** Changes to the recipe change the cache file's name, so a stale tarball is never loaded. */
const RECIPE = createHash('sha256').update(JSON.stringify([SUITE, PACKAGES, ENTRYPOINT, DEFAULT_CONF, CHANGES, 'uid1883'])).digest('hex').slice(0, 12)

/** The cache folder (`$XDG_CACHE_HOME/iotpubsub`, default `~/.cache/iotpubsub`) and the tarball in it. */
export const cacheDir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'iotpubsub')
export const cacheFile = join(cacheDir, `${pinnedImage.replace(/[/:]/g, '_')}-standin-${RECIPE}.tar`)

export interface CommandResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs a command; never rejects on a non-zero exit (the caller reads `code`). `input` goes to its stdin. */
export function command(file: string, args: readonly string[], options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdin.on('error', () => undefined)
    child.stdin.end(options.input ?? '')
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000)
    child.on('error', (error) => {
      clearTimeout(timer)
      resolve({ code: 127, stdout, stderr: `${stderr}${error.message}` })
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `${stderr}\n(killed by ${signal})` : stderr })
    })
  })
}

/** Like `command`, but rejects with the output when the exit code is not 0. */
export async function must(file: string, args: readonly string[], options: Parameters<typeof command>[2] = {}): Promise<string> {
  const result = await command(file, args, options)
  if (result.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${result.code}:\n${result.stderr}\n${result.stdout}`.slice(0, 4000))
  return result.stdout
}

export interface ImageReport {
  image: string
  /** `present`: the engine had it; `cache`: loaded from the tarball; `built`: made now with debootstrap. */
  source: 'present' | 'cache' | 'built'
  ms: number
  /** The loopback registry mirror the image was pushed to, when the engine has one. */
  mirror?: string
}

async function buildRootfs(root: string): Promise<void> {
  await must('debootstrap', ['--variant=minbase', `--include=${PACKAGES.join(',')}`, SUITE, root, MIRROR], { timeoutMs: 600_000 })
  // Debian gives the mosquitto user a system uid; the image's contract is uid and gid 1883.
  const inRoot = (...args: string[]) => must('chroot', [root, ...args])
  const oldUid = (await inRoot('id', '-u', 'mosquitto')).trim()
  const oldGid = (await inRoot('id', '-g', 'mosquitto')).trim()
  await inRoot('groupmod', '-g', '1883', 'mosquitto')
  await inRoot('usermod', '-u', '1883', '-g', '1883', 'mosquitto')
  await inRoot('sh', '-c', `find / -xdev \\( -uid ${oldUid} -o -gid ${oldGid} \\) -exec chown -h mosquitto:mosquitto {} +`)
  for (const sub of ['config', 'data', 'log']) await mkdir(join(root, 'mosquitto', sub), { recursive: true })
  await writeFile(join(root, 'mosquitto/config/mosquitto.conf'), DEFAULT_CONF)
  await inRoot('chown', '-R', 'mosquitto:mosquitto', '/mosquitto')
  await writeFile(join(root, 'docker-entrypoint.sh'), ENTRYPOINT)
  await chmod(join(root, 'docker-entrypoint.sh'), 0o755)
  // Smaller image: apt's lists and caches, docs.
  await rm(join(root, 'var/cache/apt/archives'), { recursive: true, force: true })
  await rm(join(root, 'var/lib/apt/lists'), { recursive: true, force: true })
  await rm(join(root, 'usr/share/doc'), { recursive: true, force: true })
  await rm(join(root, 'usr/share/man'), { recursive: true, force: true })
}

/**
 * Deletes a build folder. debootstrap mounts /proc (and, in some containers, binds /dev) inside the root
 * filesystem; after a failed run they can still be mounted: unmount them first, and never let rm cross into
 * another filesystem.
 */
async function removeRootfs(work: string): Promise<void> {
  const mounts = (await readIfExists('/proc/mounts')).split('\n').map((line) => line.split(' ')[1] ?? '').filter((point) => point.startsWith(`${work}/`))
  for (const point of mounts.reverse()) await command('umount', ['-l', point])
  await command('rm', ['-rf', '--one-file-system', work])
}

async function importRootfs(root: string, image: string): Promise<void> {
  const changes = CHANGES.flatMap((change) => ['--change', change])
  await must('sh', ['-c', 'tar -C "$0" -c . | docker import "$@" - "$IMAGE" >/dev/null', root, ...changes], { env: { ...process.env, IMAGE: image } })
}

/** The loopback registry mirror the engine was started with (`--registry-mirror http://127.0.0.1:PORT`), if any. */
export async function loopbackMirror(): Promise<string | undefined> {
  const out = await command('docker', ['info', '--format', '{{json .RegistryConfig.Mirrors}}'])
  if (out.code !== 0) return undefined
  const mirrors = JSON.parse(out.stdout.trim() || '[]') as string[] | null
  const url = (mirrors ?? []).map((m) => new URL(m)).find((u) => ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))
  return url?.host
}

/**
 * Pushes the image to the mirror as `library/NAME:TAG` (what a pull of `NAME:TAG` asks a mirror for). Every
 * time: a mirror that still held an older build would otherwise replace the engine's image at the next pull.
 * Layers the mirror has are not sent again.
 */
async function pushToMirror(image: string, mirror: string): Promise<void> {
  const [name, tag] = image.split(':') as [string, string]
  const repo = name.includes('/') ? name : `library/${name}`
  const mirrorTag = `${mirror}/${repo}:${tag}`
  await must('docker', ['tag', image, mirrorTag])
  try {
    await must('docker', ['push', mirrorTag], { timeoutMs: 300_000 })
  } finally {
    await command('docker', ['rmi', mirrorTag])
  }
}

/**
 * Makes sure the engine has the pinned image: present already, loaded from the cache tarball, or built now
 * (debootstrap, about a minute) and cached. Pushes it to the loopback registry mirror when the engine has one.
 */
export async function ensureImage(): Promise<ImageReport> {
  const started = Date.now()
  let source: ImageReport['source'] = 'present'
  if ((await command('docker', ['image', 'inspect', pinnedImage])).code !== 0) {
    if (existsSync(cacheFile)) {
      await must('docker', ['load', '-i', cacheFile])
      source = 'cache'
    } else {
      // debootstrap downloads about 40 packages from Debian's mirror: a failed download is tried once more.
      for (let attempt = 1; ; attempt++) {
        const work = await mkdtemp(join(process.env.IOTPUBSUB_BUILD_DIR ?? tmpdir(), 'iotpubsub-image-'))
        try {
          await buildRootfs(join(work, 'root'))
          await importRootfs(join(work, 'root'), pinnedImage)
          break
        } catch (error) {
          if (attempt >= 2) throw error
        } finally {
          await removeRootfs(work)
        }
      }
      await mkdir(cacheDir, { recursive: true })
      await must('docker', ['save', '-o', `${cacheFile}.part`, pinnedImage])
      await rename(`${cacheFile}.part`, cacheFile)
      source = 'built'
    }
  }
  const mirror = await loopbackMirror()
  if (mirror) await pushToMirror(pinnedImage, mirror)
  return { image: pinnedImage, source, ms: Date.now() - started, ...(mirror ? { mirror } : {}) }
}

/** True when the image is the stand-in made here (not the real one pulled by a user). */
export async function isStandIn(image = pinnedImage): Promise<boolean> {
  const out = await command('docker', ['image', 'inspect', '--format', '{{index .Config.Labels "org.iotpubsub.standin"}}', image])
  return out.code === 0 && out.stdout.trim() !== '' && out.stdout.trim() !== '<no value>'
}

/** Reads a file if it exists (for reports). */
export async function readIfExists(path: string): Promise<string> {
  return existsSync(path) ? readFile(path, 'utf8') : ''
}
