// The broker kit under a real Docker engine: a copy of mosquitto/ in a temporary folder, where the README's
// commands run as a user types them (bash, in the copy), on free host ports bound to loopback, as a compose
// project whose name is unique to the run (and so cleaned up by name, also after a crash).
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject } from 'vitest'
import { removeLeftovers, removeStaleRuns } from './docker-cleanup.js'
import { command, type CommandResult, type ImageReport } from './docker-image.js'
import { kitDir } from './mosquitto.js'
import { freePort } from './ports.js'
import { waitFor } from './wait.js'

/** True when the Docker tests must be skipped: no engine and not CI (the global setup said so, loudly). */
export function noDockerEngine(): boolean {
  return !inject('dockerEngine') && !process.env.CI
}

/** What the global setup's image build wrote. */
interface ImageStatus {
  ok: boolean
  report?: ImageReport
  error?: string
}

/** Waits for the image the global setup builds or loads; throws its error, or that there is no engine. */
export async function imageReady(ms = 540_000): Promise<ImageReport> {
  if (!inject('dockerEngine')) throw new Error('no Docker engine answers `docker info` (see .ci/run: apt-get install docker.io, then dockerd)')
  const file = inject('dockerImageStatus')
  const status = await waitFor((): ImageStatus | undefined => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ImageStatus) : undefined), 'the stand-in image', ms, 200)
  if (!status.ok || !status.report) throw new Error(`the stand-in image could not be made:\n${status.error}`)
  // What killed runs left (containers with `restart: unless-stopped` come back with the engine): removed now that
  // the docker project runs alone.
  await removeStaleRuns()
  return status.report
}

let projects = 0

/** A unique name under the run's prefix, for a compose project, a container or an image tag. */
export function runName(what: string): string {
  projects += 1
  return `${inject('dockerRunPrefix')}${process.pid}-${what}-${projects}`
}

/** A copy of the kit in a temporary folder, `docker compose` in it under a project name of its own. */
export class KitCopy {
  private constructor(
    /** The copy: what the README calls /srv/mosquitto. */
    readonly dir: string,
    readonly project: string,
    /** The host ports written to `.env`, by variable (`MQTT_PORT`, ...): numbers, published on 127.0.0.1. */
    readonly ports: Readonly<Record<PortVariable, number>>,
  ) {}

  /**
   * Copies mosquitto/ as the README says (`cp -r mosquitto /srv/mosquitto`), without what a machine makes in
   * it (passwd, keys, data, log, .env: git-ignored), and picks free host ports.
   */
  static async create(name: string): Promise<KitCopy> {
    const parent = await mkdtemp(join(tmpdir(), 'iotpubsub-kit-'))
    const dir = join(parent, 'mosquitto')
    const copied = await command('cp', ['-r', kitDir, dir])
    if (copied.code !== 0) throw new Error(copied.stderr)
    await command('sh', ['-c', 'rm -rf data log .env passwd certs/*.key certs/*.crt certs/*.csr certs/*.srl certs/clients', dir], { cwd: dir })
    const ports = {} as Record<PortVariable, number>
    for (const variable of PORT_VARIABLES) ports[variable] = await freePort()
    return new KitCopy(dir, runName(name), ports)
  }

  /** The `.env` lines that put every listener on its free port, on loopback only (`127.0.0.1:PORT`). */
  portLines(): string[] {
    return PORT_VARIABLES.map((variable) => `${variable}=127.0.0.1:${this.ports[variable]}`)
  }

  /** Writes `.env`: the lines given, then the ports. */
  async writeEnv(lines: readonly string[] = []): Promise<void> {
    await writeFile(join(this.dir, '.env'), [...lines, ...this.portLines(), ''].join('\n'))
  }

  /** Runs a shell command line in the copy, as a user would (bash -c), with the compose project name set. */
  sh(line: string, options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CommandResult> {
    return command('bash', ['-c', line], { cwd: this.dir, input: options.input, timeoutMs: options.timeoutMs ?? 120_000, env: { ...process.env, COMPOSE_PROJECT_NAME: this.project, ...options.env } })
  }

  /** Like `sh`, but throws with the output when the command fails. */
  async must(line: string, options: Parameters<KitCopy['sh']>[1] = {}): Promise<string> {
    const result = await this.sh(line, options)
    if (result.code !== 0) throw new Error(`\`${line}\` exited ${result.code}:\n${result.stderr}\n${result.stdout}`)
    return `${result.stdout}${result.stderr}`
  }

  /** `docker compose logs mosquitto` (stdout of the container, every start since it was created). */
  async logs(): Promise<string> {
    return (await this.sh('docker compose logs --no-color --no-log-prefix mosquitto')).stdout
  }

  /** Resolves with the logs once `pattern` has appeared `times` times in them. */
  async waitForLog(pattern: RegExp, what: string, times = 1, ms = 30_000): Promise<string> {
    const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`)
    return waitFor(async () => {
      const text = await this.logs()
      return [...text.matchAll(global)].length >= times ? text : ''
    }, what, ms, 250)
  }

  /** The container's state and restart count, `running 0` when all is well. */
  async state(): Promise<string> {
    const id = (await this.sh('docker compose ps -a -q mosquitto')).stdout.trim()
    if (!id) return 'missing'
    return (await command('docker', ['inspect', '-f', '{{.State.Status}} {{.RestartCount}}', id])).stdout.trim()
  }

  url(scheme: 'mqtt' | 'ws' | 'mqtts' | 'wss', variable: PortVariable): string {
    return `${scheme}://127.0.0.1:${this.ports[variable]}`
  }

  /** Takes the project down with its volumes and deletes the copy. */
  async dispose(): Promise<void> {
    await this.sh('docker compose down -v --remove-orphans --timeout 5')
    await removeLeftovers(this.project)
    await rm(join(this.dir, '..'), { recursive: true, force: true })
  }
}

export const PORT_VARIABLES = ['MQTT_PORT', 'WS_PORT', 'MQTTS_PORT', 'WSS_PORT'] as const
export type PortVariable = (typeof PORT_VARIABLES)[number]

/** The README's text, for tests that run its command blocks as written. */
export function readme(): string {
  return readFileSync(join(kitDir, 'README.md'), 'utf8')
}

/** The fenced `sh` blocks of a README section (from its `## heading` to the next one), in order. */
export function shellBlocks(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`## ${heading}`)
  if (start < 0) throw new Error(`no section "## ${heading}" in the README`)
  const end = markdown.indexOf('\n## ', start + 3)
  const section = markdown.slice(start, end < 0 ? undefined : end)
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string)
}
