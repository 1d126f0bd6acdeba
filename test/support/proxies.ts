// Real proxies from Debian's packages, on loopback, each with its own config in a temporary folder: tinyproxy
// (HTTP CONNECT, Basic authentication) and Dante's danted (SOCKS5, RFC 1929 username/password, checked against
// a passwd and shadow of the test's own through nss_wrapper, so no system user is made).
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { connect, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { findBinary, missing } from './binaries.js'
import { freePort } from './ports.js'
import { waitFor } from './wait.js'

/** Where Debian's libnss-wrapper puts its library, by architecture. */
const NSS_WRAPPER = ['/usr/lib/x86_64-linux-gnu/libnss_wrapper.so', '/usr/lib/aarch64-linux-gnu/libnss_wrapper.so', '/usr/lib/libnss_wrapper.so']

/** True when the proxy tests must be skipped (never under CI=true: there they run and fail). */
export function noProxies(): boolean {
  const hint = 'Install them: apt-get install tinyproxy dante-server libnss-wrapper'
  const tinyproxy = missing('tinyproxy', hint)
  const danted = missing('danted', hint)
  if (tinyproxy || danted) return true
  if (nssWrapper() || process.env.CI) return false
  process.stderr.write(`\n!!! SKIPPING the SOCKS5 tests: libnss_wrapper.so is not installed. ${hint}\n\n`)
  return true
}

function nssWrapper(): string | undefined {
  return NSS_WRAPPER.find((path) => existsSync(path))
}

/** A proxy process the test started, its folder and its log. */
export class ProxyProcess {
  readonly port: number
  readonly dir: string
  readonly logFile: string
  readonly #child: ChildProcess

  constructor(port: number, dir: string, logFile: string, child: ChildProcess) {
    this.port = port
    this.dir = dir
    this.logFile = logFile
    this.#child = child
  }

  async log(): Promise<string> {
    return existsSync(this.logFile) ? readFile(this.logFile, 'utf8') : ''
  }

  /** Resolves once `count` lines of the log match `pattern`. */
  async waitForLines(pattern: RegExp, count = 1, ms = 20_000): Promise<number> {
    return waitFor(async () => {
      const n = (await this.log()).split('\n').filter((line) => pattern.test(line)).length
      return n >= count ? n : 0
    }, `${count} × ${pattern} in ${this.logFile}`, ms)
  }

  /** Stops the proxy (its whole process group: danted forks) and deletes its folder. */
  async dispose(): Promise<void> {
    const child = this.#child
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise<void>((done) => child.once('exit', () => done()))
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
      await exited
    }
    await rm(this.dir, { recursive: true, force: true })
  }
}

/** tinyproxy on a free loopback port: CONNECT to `connectPorts` only (others get 403), Basic auth when given. */
export async function startTinyproxy(options: { user?: string; password?: string; connectPorts: number[] }): Promise<ProxyProcess> {
  const binary = findBinary('tinyproxy')
  if (!binary) throw new Error('tinyproxy is not installed (apt-get install tinyproxy)')
  const dir = await mkdtemp(join(tmpdir(), 'iotpubsub-tinyproxy-'))
  await chmod(dir, 0o777) // tinyproxy may drop to another user to write its log
  const port = await freePort()
  const logFile = join(dir, 'tinyproxy.log')
  const lines = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 600',
    `LogFile "${logFile}"`,
    'LogLevel Connect',
    'MaxClients 100',
    'Allow 127.0.0.1',
    ...(options.user ? [`BasicAuth ${options.user} ${options.password ?? ''}`] : []),
    ...options.connectPorts.map((p) => `ConnectPort ${p}`),
  ]
  await writeFile(join(dir, 'tinyproxy.conf'), `${lines.join('\n')}\n`)
  const child = spawn(binary, ['-d', '-c', join(dir, 'tinyproxy.conf')], { stdio: 'ignore', detached: true })
  const proxy = new ProxyProcess(port, dir, logFile, child)
  await listening(proxy, child)
  return proxy
}

/** danted on a free loopback port, SOCKS5 with username/password authentication for `user`. */
export async function startDante(options: { user: string; password: string }): Promise<ProxyProcess> {
  const binary = findBinary('danted')
  if (!binary) throw new Error('danted is not installed (apt-get install dante-server)')
  const wrapper = nssWrapper()
  if (!wrapper) throw new Error('libnss_wrapper.so is not installed (apt-get install libnss-wrapper)')
  const dir = await mkdtemp(join(tmpdir(), 'iotpubsub-danted-'))
  const port = await freePort()
  const logFile = join(dir, 'danted.log')
  const hash = execFileSync('openssl', ['passwd', '-6', options.password], { encoding: 'utf8' }).trim()
  const uid = process.getuid?.() ?? 0
  const gid = process.getgid?.() ?? 0
  await writeFile(join(dir, 'passwd'), `${options.user}:x:${uid}:${gid}:test:/nonexistent:/bin/false\nroot:x:0:0:root:/root:/bin/sh\n`)
  await writeFile(join(dir, 'group'), `root:x:0:\nnogroup:x:65534:\n`)
  await writeFile(join(dir, 'shadow'), `${options.user}:${hash}:19000:0:99999:7:::\n`)
  const root = uid === 0
  const config = [
    `logoutput: ${logFile}`,
    `internal: 127.0.0.1 port = ${port}`,
    'external: 127.0.0.1',
    'socksmethod: username',
    'clientmethod: none',
    // As root, danted switches users to check passwords; the test's own root is the one it knows.
    ...(root ? ['user.privileged: root', 'user.unprivileged: root'] : []),
    'client pass {\n  from: 127.0.0.1/32 to: 0.0.0.0/0\n  log: connect disconnect error\n}',
    'socks pass {\n  from: 127.0.0.1/32 to: 0.0.0.0/0\n  command: connect\n  log: connect disconnect error\n}',
  ]
  await writeFile(join(dir, 'danted.conf'), `${config.join('\n')}\n`)
  const env = {
    ...process.env,
    LD_PRELOAD: wrapper,
    NSS_WRAPPER_PASSWD: join(dir, 'passwd'),
    NSS_WRAPPER_GROUP: join(dir, 'group'),
    NSS_WRAPPER_SHADOW: join(dir, 'shadow'),
  }
  const child = spawn(binary, ['-f', join(dir, 'danted.conf'), '-p', join(dir, 'danted.pid')], { stdio: 'ignore', detached: true, env })
  const proxy = new ProxyProcess(port, dir, logFile, child)
  await listening(proxy, child)
  return proxy
}

/** A TLS-terminating front on loopback: what makes tinyproxy an https:// proxy. */
export interface TlsFront {
  readonly port: number
  /** Connections whose TLS handshake succeeded, and those whose handshake failed. */
  readonly counts: { secure: number; failed: number }
  close(): Promise<void>
}

/**
 * A Node TLS server on a free loopback port that hands each connection's plaintext to `127.0.0.1:target`
 * (tinyproxy): the client speaks TLS to "the proxy", then CONNECT inside it, as to a corporate https:// proxy.
 */
export async function startTlsFront(options: { target: number; cert: string; key: string }): Promise<TlsFront> {
  const sockets = new Set<Socket>()
  const counts = { secure: 0, failed: 0 }
  const server = createTlsServer({ cert: options.cert, key: options.key }, (secure) => {
    counts.secure++
    const upstream = connect({ host: '127.0.0.1', port: options.target })
    for (const socket of [secure, upstream]) {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
      socket.on('error', () => {
        secure.destroy()
        upstream.destroy()
      })
    }
    secure.pipe(upstream).pipe(secure)
  })
  server.on('tlsClientError', () => counts.failed++)
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the TLS front has no port')
  return {
    port: address.port,
    counts,
    close: () =>
      new Promise<void>((done) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => done())
      }),
  }
}

/** Resolves once the proxy takes TCP connections (neither logs that it listens at the levels used here). */
async function listening(proxy: ProxyProcess, child: ChildProcess): Promise<void> {
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${await proxy.log()}`)
      return accepts(proxy.port)
    }, 'the proxy to listen', 15_000, 50)
  } catch (error) {
    await proxy.dispose()
    throw error
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      done(true)
    })
    socket.once('error', () => done(false))
  })
}
