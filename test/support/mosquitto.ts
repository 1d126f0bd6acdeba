import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findBinary } from './binaries.js'
import { freePort } from './ports.js'

/** The project's own broker kit: tests run the files users deploy, not a config of their own. */
export const kitDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../mosquitto')

export interface MosquittoOptions {
  /** Config file inside mosquitto/ to start from. Default `mosquitto.conf` (the development profile). */
  profile?: string
  /** Ports to use for the profile's `listener N` lines, by N. Unlisted listeners get free ports. */
  ports?: Record<number, number>
  /** Files to place in the broker's folder before start, by path relative to it (`config/passwd`). */
  files?: Record<string, string | Buffer>
  /** Lines appended to the rendered config (limits, `persistence false`, ...); `/mosquitto/` paths are moved too. */
  extra?: string[]
  /** Turn persistence off (the kit enables it). */
  persistence?: boolean
  /** Plugins to load (`plugin PATH`), each with its `plugin_opt_NAME VALUE` lines; see test/support/auth-plugin/. */
  plugins?: ReadonlyArray<{ readonly path: string; readonly options?: Readonly<Record<string, string>> }>
}

/**
 * A private Mosquitto started from one of the kit's config files, with every `listener` moved to a free
 * port and every `/mosquitto/...` path (the Docker image's layout) moved into a temporary folder.
 */
export class Mosquitto {
  /** The rendered config's folder: `config/`, `data/`, `log/` as in the Docker image. */
  readonly dir: string
  readonly ports: Readonly<Record<number, number>>
  readonly configFile: string
  readonly logFile: string
  private process: ChildProcess | undefined
  private readonly binary: string

  private constructor(dir: string, ports: Record<number, number>, binary: string) {
    this.dir = dir
    this.ports = ports
    this.binary = binary
    this.configFile = join(dir, 'config', 'mosquitto.conf')
    this.logFile = join(dir, 'log', 'mosquitto.log')
  }

  /** Renders the profile into a temporary folder and starts the broker; resolves once it listens. */
  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    // A free port can be taken by another test between asking for it and the broker binding it: on that
    // failure, try again with new ports (ports the caller fixed are kept).
    for (let attempt = 1; ; attempt++) {
      try {
        return await Mosquitto.startOnce(options)
      } catch (error) {
        if (attempt >= 3 || !/Address already in use/i.test(String(error))) throw error
      }
    }
  }

  private static async startOnce(options: MosquittoOptions): Promise<Mosquitto> {
    const binary = findBinary('mosquitto')
    if (!binary) throw new Error('mosquitto is not installed (apt-get install mosquitto mosquitto-clients)')
    const profile = options.profile ?? 'mosquitto.conf'
    const source = await readFile(join(kitDir, profile), 'utf8')
    const dir = await mkdtemp(join(tmpdir(), 'iotpubsub-mosquitto-'))
    for (const sub of ['config', 'data', 'log']) await mkdir(join(dir, sub), { recursive: true })
    for (const [path, content] of Object.entries(options.files ?? {})) {
      await mkdir(dirname(join(dir, path)), { recursive: true })
      await writeFile(join(dir, path), content, { mode: 0o600 })
    }
    const ports: Record<number, number> = {}
    for (const match of source.matchAll(/^\s*listener\s+(\d+)/gm)) {
      const original = Number(match[1])
      ports[original] = options.ports?.[original] ?? (await freePort())
    }
    const broker = new Mosquitto(dir, ports, binary)
    await writeFile(broker.configFile, renderConfig(source, dir, ports, options))
    try {
      await broker.launch()
    } catch (error) {
      await rm(dir, { recursive: true, force: true })
      throw error
    }
    return broker
  }

  /** `mqtt://127.0.0.1:PORT` for the profile's listener that was `listener N`. */
  url(scheme: 'mqtt' | 'ws' | 'mqtts' | 'wss', listener: number, host = '127.0.0.1'): string {
    const port = this.ports[listener]
    if (port === undefined) throw new Error(`the profile has no listener ${listener}`)
    return `${scheme}://${host}:${port}`
  }

  get tcpUrl(): string {
    return this.url('mqtt', 1883)
  }

  get wsUrl(): string {
    return this.url('ws', 9001)
  }

  get pid(): number | undefined {
    return this.process?.pid
  }

  /** The broker's log so far. */
  async log(): Promise<string> {
    return existsSync(this.logFile) ? readFile(this.logFile, 'utf8') : ''
  }

  /** Resolves with the log once `pattern` appears in it (the log is a file: stdout is block-buffered). */
  async waitForLog(pattern: RegExp, ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms
    for (;;) {
      const text = await this.log()
      if (pattern.test(text)) return text
      if (this.process?.exitCode !== null && this.process?.exitCode !== undefined) {
        throw new Error(`mosquitto exited with ${this.process.exitCode} before ${pattern}:\n${text}`)
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in the mosquitto log:\n${text}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  /**
   * Resolves once the broker has logged `clientId`'s subscription to `filter` (at `qos`, when given). Needs
   * `log_type all` or `log_type subscribe`; the filter is matched literally, wildcards and all.
   */
  waitForSubscription(clientId: string, filter: string, qos?: 0 | 1 | 2, ms?: number): Promise<string> {
    const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    return this.waitForLog(new RegExp(`${literal(clientId)} ${qos ?? '[012]'} ${literal(filter)}$`, 'm'), ms)
  }

  /** Sends a signal: SIGSTOP freezes the broker (a half-open connection), SIGCONT resumes it. */
  signal(signal: NodeJS.Signals): void {
    this.process?.kill(signal)
  }

  /** Stops the broker (SIGTERM, or SIGKILL for a crash) and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.process
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((done) => child.once('exit', () => done()))
    child.kill('SIGCONT')
    child.kill(signal)
    await exited
    this.process = undefined
  }

  /** Starts the same config again on the same ports (after `stop`, to simulate a broker restart). */
  async restart(): Promise<void> {
    await this.stop()
    await this.launch()
  }

  /** Stops the broker and deletes its folder. */
  async dispose(): Promise<void> {
    await this.stop('SIGKILL')
    await rm(this.dir, { recursive: true, force: true })
  }

  private async launch(): Promise<void> {
    const before = (await this.log()).length
    const child = spawn(this.binary, ['-c', this.configFile], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    this.process = child
    try {
      await this.waitForLogAfter(before, /mosquitto version \S+ running/)
    } catch (error) {
      child.kill('SIGKILL')
      throw new Error(`mosquitto did not start: ${stderr}\n${(error as Error).message}`)
    }
  }

  private async waitForLogAfter(offset: number, pattern: RegExp): Promise<void> {
    const deadline = Date.now() + 10_000
    for (;;) {
      const text = (await this.log()).slice(offset)
      if (pattern.test(text)) return
      if (this.process?.exitCode !== null) throw new Error(`exited with ${this.process?.exitCode}:\n${text}`)
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${text}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
}

/**
 * Rewrites a kit config for a test: `listener N` → `listener PORT` (bound to loopback; the websockets
 * listener of mosquitto 2.0.11 ignores the address, see mosquitto/README.md), `/mosquitto/` paths → the
 * temporary folder, no stdout logging, and `user root` when running as root so the broker can read files
 * the test wrote.
 */
export function renderConfig(source: string, dir: string, ports: Record<number, number>, options: MosquittoOptions = {}): string {
  const lines = source.split('\n').flatMap((line) => {
    const listener = /^(\s*)listener\s+(\d+)(\s+\S+)?\s*$/.exec(line)
    if (listener) return [`${listener[1]}listener ${ports[Number(listener[2])]} 127.0.0.1`]
    if (/^\s*log_dest\s+stdout/.test(line)) return []
    if (options.persistence === false && /^\s*persistence\s+true/.test(line)) return ['persistence false']
    return [line.replaceAll('/mosquitto/', `${dir}/`)]
  })
  if (process.getuid?.() === 0) lines.unshift('user root')
  const extra = (options.extra ?? []).map((line) => line.replaceAll('/mosquitto/', `${dir}/`))
  // A plugin's options follow its `plugin` line: Mosquitto gives each plugin the plugin_opt_ lines after it.
  const plugins = (options.plugins ?? []).flatMap(({ path, options = {} }) => [`plugin ${path}`, ...Object.entries(options).map(([k, v]) => `plugin_opt_${k} ${v}`)])
  return [...lines, ...extra, ...plugins, ''].join('\n')
}
