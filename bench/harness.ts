import { execFileSync, fork, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Mosquitto } from '../test/support/mosquitto.js'
import type { FromWorker, Impl, Job, ToWorker } from './protocol.js'

export const benchDir = dirname(fileURLToPath(import.meta.url))
export const repoRoot = resolve(benchDir, '..')
export const workerPath = join(benchDir, 'worker.ts')

// ------------------------------------------------------------------------------------------------ config

export interface BenchConfig {
  /** Multiplies every message count (BENCH_SCALE, or 0.01 with --quick). */
  scale: number
  /** Repetitions per case and implementation (BENCH_REPS; default 5, 1 with --quick). */
  reps: number
  quick: boolean
  /** Only the cases whose id contains one of these (--only=a,b). */
  only: string[] | undefined
  /** Where the JSON result goes (--out=path); default bench-results/<timestamp>.json. */
  out: string | undefined
  /** Exit non-zero when a budget fails (--check). */
  check: boolean
  /** Write .cpuprofile files of every trial's measured process into bench-results/profiles (--profile). */
  profile: boolean
  /**
   * The implementations compared, in the order of a repetition (raw in the middle: next to each of the
   * others). Default all three; `--impls=raw,lean` (or BENCH_IMPLS) leaves the SDK on MQTT.js out. Raw
   * MQTT.js, the baseline of every ratio, is always run.
   */
  impls: Impl[]
}

/** Every implementation, in the order of a repetition: raw MQTT.js next to each SDK link. */
export const ALL_IMPLS: readonly Impl[] = ['sdk', 'raw', 'lean']

function readImpls(value: string | undefined): Impl[] {
  if (!value) return [...ALL_IMPLS]
  const asked = value.split(',').map((v) => v.trim()).filter(Boolean)
  const unknown = asked.filter((v) => !(ALL_IMPLS as readonly string[]).includes(v))
  if (unknown.length) throw new Error(`--impls: unknown implementation(s) ${unknown.join(', ')} (known: ${ALL_IMPLS.join(', ')})`)
  return ALL_IMPLS.filter((impl) => impl === 'raw' || asked.includes(impl))
}

export function readConfig(argv = process.argv.slice(2), env = process.env): BenchConfig {
  const flag = (name: string): string | undefined => {
    const hit = argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))
    if (hit === undefined) return undefined
    return hit.includes('=') ? hit.slice(hit.indexOf('=') + 1) : ''
  }
  const quick = flag('quick') !== undefined
  const number = (value: string | undefined, fallback: number): number => {
    const n = value === undefined || value === '' ? Number.NaN : Number(value)
    return Number.isFinite(n) && n > 0 ? n : fallback
  }
  const only = flag('only')
  return {
    quick,
    scale: number(flag('scale') ?? env.BENCH_SCALE, quick ? 0.01 : 1),
    reps: Math.round(number(flag('reps') ?? env.BENCH_REPS, quick ? 1 : 5)),
    only: only ? only.split(',').filter(Boolean) : undefined,
    out: flag('out') || undefined,
    check: flag('check') !== undefined,
    profile: flag('profile') !== undefined,
    impls: readImpls(flag('impls') ?? env.BENCH_IMPLS),
  }
}

/** A message count scaled by the config, never below `min`. */
export function scaled(config: BenchConfig, count: number, min = 50): number {
  return Math.max(min, Math.round(count * config.scale))
}

// ------------------------------------------------------------------------------------------------ broker

/**
 * The project's development broker profile with persistence off and the per-client queues raised, so a
 * burst is queued rather than dropped: the same broker and limits for the SDK and for raw MQTT.js.
 *
 * Mosquitto 2.0 holds QoS 0 messages for an online client only while its outgoing packet count is below
 * max_queued_messages (and its bytes below max_queued_bytes, 0 = no limit); QoS 1 beyond the
 * max_inflight_messages in flight are queued under the same limits. A stopped subscriber's whole burst
 * (at most 200,000 messages here) must fit, or the drain would count a shorter backlog: the drain cases
 * check that every message arrived and mark the row otherwise.
 */
export const BROKER_EXTRA = ['max_queued_messages 1000000', 'max_queued_bytes 0', 'max_inflight_messages 1000']

/** The largest burst a case may queue for one stopped subscriber (below max_queued_messages). */
export const MAX_BURST = 200_000

export function startBroker(): Promise<Mosquitto> {
  return Mosquitto.start({ persistence: false, extra: BROKER_EXTRA })
}

/** The shipped mosquitto/mosquitto.conf as it is (only ports and paths moved): the latency-by-default case. */
export function startDefaultBroker(): Promise<Mosquitto> {
  return Mosquitto.start()
}

// ------------------------------------------------------------------------------------------- process CPU

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (100 on every Linux this runs on, but asked). */
const clockTicks = ((): number => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100
  } catch {
    return 100
  }
})()

/**
 * CPU time (user + system, µs) another process has used so far, from /proc/<pid>/stat (Linux only; undefined
 * elsewhere). Resolution is one clock tick (10 ms): callers measure bursts of hundreds of milliseconds.
 */
export function processCpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may contain spaces and parentheses): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) / clockTicks) * 1e6
  } catch {
    return undefined
  }
}

/** The state letter of /proc/<pid>/stat ('T' once SIGSTOP has taken effect), or undefined. */
export function processState(pid: number | undefined): string | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
  } catch {
    return undefined
  }
}

// ----------------------------------------------------------------------------------------------- workers

let sequence = 0
export const uniqueId = (label: string): string => `bench-${label}-${process.pid}-${++sequence}`

/**
 * Where the SDK's JavaScript is built for the bench: `tsc` output, as users run it (`dist/`). The worker runs
 * under tsx, whose transform of `lib/*.ts` keeps function names with a helper call per closure made (measured:
 * about 1 µs more per `publish()`), so the SDK is not measured from its sources. A folder of the bench's own,
 * because a package test may be rebuilding `dist/` at the same time.
 */
export const sdkBuildDir = join(repoRoot, 'bench-results', 'sdk')

/** Compiles lib/ into {@link sdkBuildDir} (a few seconds); workers import the SDK from there. */
export function buildSdk(): void {
  execFileSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(repoRoot, 'tsconfig.build.json'),
    '--outDir', sdkBuildDir, '--declaration', 'false', '--sourceMap', 'false', '--inlineSources', 'false'], { cwd: repoRoot, stdio: 'inherit' })
}

/**
 * A bench process's environment: the orchestrator's, the SDK build to import, and no IOTPUBSUB_LINK (every
 * job names its link; a default link from the shell must not change what the 'sdk' rows mean).
 */
function workerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, IOTPUBSUB_BENCH_SDK: pathToFileURL(join(sdkBuildDir, 'node.js')).href }
  delete env.IOTPUBSUB_LINK
  return env
}

/** A bundle of bench/worker.ts that plain node runs (--quick sets it, see run.ts); unset, the worker runs under tsx. */
let workerBundle: string | undefined
export const forkBundle = (path: string): void => {
  workerBundle = path
}

/** A forked bench process (bench/worker.ts under tsx, or its bundle; a profiled one under tsx, for the profile's file paths). */
export class Worker {
  private readonly child: ChildProcess
  private readonly inbox: FromWorker[] = []
  private readonly waiters: Array<() => void> = []
  private exitError: Error | undefined
  readonly exited: Promise<void>

  constructor(job: Job, options: { execArgv?: string[]; label: string }) {
    const bundle = job.profileFile === undefined ? workerBundle : undefined
    this.child = fork(bundle ?? workerPath, [], {
      cwd: repoRoot,
      execArgv: [...(bundle ? [] : ['--import', 'tsx']), ...(options.execArgv ?? [])],
      env: workerEnv(),
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    })
    // Passed through, and the tail kept so a process that dies says why in the error.
    let stderr = ''
    this.child.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk)
      stderr = (stderr + chunk.toString()).slice(-2_000)
    })
    this.exited = new Promise((done) => this.child.once('close', () => done()))
    this.child.on('message', (message: FromWorker) => {
      if (message.type === 'error') this.exitError = new Error(`${options.label}: ${message.message}`)
      else this.inbox.push(message)
      this.wake()
    })
    this.child.once('close', (code, signal) => {
      this.exitError ??= new Error(`${options.label} exited (${signal ?? code}) unexpectedly${stderr ? `:\n${stderr.trim()}` : ''}`)
      this.wake()
    })
    this.child.send(job)
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter()
  }

  /** The next message of `type` (earlier ones of other types are skipped), or a timeout/exit error. */
  async next<T extends FromWorker["type"]>(type: T, ms: number, what: string = type): Promise<Extract<FromWorker, { type: T }>> {
    const deadline = Date.now() + ms
    for (;;) {
      const index = this.inbox.findIndex((m) => m.type === type)
      if (index !== -1) return this.inbox.splice(index, 1)[0] as Extract<FromWorker, { type: T }>
      if (this.exitError) throw this.exitError
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** Whether a message of `type` has arrived (without taking it). */
  has(type: FromWorker['type']): boolean {
    return this.inbox.some((m) => m.type === type)
  }

  send(message: ToWorker): void {
    if (this.child.connected) this.child.send(message)
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  /**
   * SIGSTOP or SIGCONT to this process (by its own pid), resolved once the kernel shows the process stopped
   * (state T) or running again, so nothing is published before the subscriber really is paused.
   */
  async signal(signal: 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    this.child.kill(signal)
    const deadline = Date.now() + 2_000
    for (;;) {
      const state = processState(this.child.pid)
      if (state === undefined || (signal === 'SIGSTOP') === (state === 'T')) return
      if (Date.now() > deadline) throw new Error(`the process did not ${signal === 'SIGSTOP' ? 'stop' : 'resume'} (state ${state})`)
      await new Promise((r) => setTimeout(r, 2))
    }
  }

  /** Asks the process to close its client and exit; kills it (by its own pid) if it does not within 3 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.exitError ??= new Error('stopped')
    // A stopped process would never read 'exit'.
    this.child.kill('SIGCONT')
    this.send({ type: 'exit' })
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000)
    await this.exited
    clearTimeout(timer)
  }
}

// ------------------------------------------------------------------------------------------------- stats

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** The p-th percentile (0..100) by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank] as number
}

/**
 * The order of implementations in repetition `rep`: as given, then reversed, alternating, so none always runs
 * first or last. With the baseline in the middle (['sdk', 'raw', 'lean']) it runs next to each of the others
 * in every repetition, so each paired ratio is of two trials back to back.
 */
export function orderFor<T>(rep: number, impls: readonly T[]): T[] {
  return rep % 2 === 0 ? [...impls] : [...impls].reverse()
}
