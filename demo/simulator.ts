/**
 * A fleet of simulated devices, each its own MQTT client over TCP, as real devices or a backend would be:
 *
 * - `{prefix}/devices/{id}/meta`       retained JSON: name, kind, location, field labels and units
 * - `{prefix}/devices/{id}/status`     retained `online`; the last will (and a clean stop) says `offline`
 * - `{prefix}/devices/{id}/telemetry`  JSON readings with mean-reverting noise, at each device's own rate
 * - `{prefix}/devices/{id}/cmd`        JSON commands: blink, ping, set-interval {value: ms}, reboot
 * - `{prefix}/devices/{id}/reply`      JSON reply to each command: {id, command, ok, message}
 *
 * plus a load generator for stress tests: `{prefix}/simulator/cmd` `{"command":"stress","rate":2000,"seconds":10}`
 * publishes to `{prefix}/load/sensor-N` at that rate.
 *
 * Run it on its own against any broker: `npx tsx demo/simulator.ts mqtt://localhost:1883`
 */
import { pathToFileURL } from 'node:url'
import { filter, firstValueFrom, timeout } from 'rxjs'
import { connect, topic, type ClientOptions, type MQTTClient } from '../lib/node.js'

export interface FieldSpec {
  label: string
  unit: string
  decimals: number
  /** The value the reading returns to. */
  mean: number
  /** Noise per reading (standard deviation). */
  sigma: number
  /** Pull back towards `mean` per reading, 0..1. Default 0.1. */
  theta?: number
  /** Added to `mean` per reading (a battery draining). */
  drift?: number
  min?: number
  max?: number
  /** Chance per reading of a jump of `spike` (a freezer door opening). */
  spikeChance?: number
  spike?: number
}

export interface DeviceSpec {
  id: string
  name: string
  kind: string
  location: string
  /** Milliseconds between telemetry messages (±15 % jitter). */
  intervalMs: number
  fields: Record<string, FieldSpec>
  /** Non-numeric readings, from the current numeric ones. */
  facts?: (values: Record<string, number>, random: () => number) => Record<string, string | boolean>
}

export const DEFAULT_DEVICES: DeviceSpec[] = [
  {
    id: 'kitchen',
    name: 'Kitchen',
    kind: 'room sensor',
    location: 'Ground floor',
    intervalMs: 2_000,
    fields: {
      temperature: { label: 'Temperature', unit: '°C', decimals: 1, mean: 22.4, sigma: 0.12 },
      humidity: { label: 'Humidity', unit: '%', decimals: 0, mean: 51, sigma: 0.8 },
      battery: { label: 'Battery', unit: '%', decimals: 0, mean: 94, sigma: 0.02, theta: 0.5, drift: -0.01, min: 0, max: 100 },
    },
  },
  {
    id: 'living-room',
    name: 'Living room',
    kind: 'room sensor',
    location: 'Ground floor',
    intervalMs: 2_000,
    fields: {
      temperature: { label: 'Temperature', unit: '°C', decimals: 1, mean: 21.1, sigma: 0.1 },
      humidity: { label: 'Humidity', unit: '%', decimals: 0, mean: 44, sigma: 0.6 },
      co2: { label: 'CO₂', unit: 'ppm', decimals: 0, mean: 640, sigma: 18, theta: 0.05 },
      battery: { label: 'Battery', unit: '%', decimals: 0, mean: 81, sigma: 0.02, theta: 0.5, drift: -0.01, min: 0, max: 100 },
    },
  },
  {
    id: 'greenhouse',
    name: 'Greenhouse',
    kind: 'climate station',
    location: 'Garden',
    intervalMs: 3_000,
    fields: {
      temperature: { label: 'Temperature', unit: '°C', decimals: 1, mean: 26.3, sigma: 0.25, theta: 0.05 },
      humidity: { label: 'Humidity', unit: '%', decimals: 0, mean: 72, sigma: 1.2 },
      light: { label: 'Light', unit: 'lx', decimals: 0, mean: 18_500, sigma: 900, theta: 0.08, min: 0 },
      soil: { label: 'Soil moisture', unit: '%', decimals: 0, mean: 38, sigma: 0.3, drift: -0.005, min: 0, max: 100 },
    },
  },
  {
    id: 'server-room',
    name: 'Server room',
    kind: 'rack monitor',
    location: 'Basement',
    intervalMs: 1_000,
    fields: {
      temperature: { label: 'Inlet', unit: '°C', decimals: 1, mean: 19.6, sigma: 0.08 },
      humidity: { label: 'Humidity', unit: '%', decimals: 0, mean: 36, sigma: 0.4 },
      power: { label: 'Power', unit: 'kW', decimals: 2, mean: 2.4, sigma: 0.06, theta: 0.2 },
    },
  },
  {
    id: 'freezer',
    name: 'Walk-in freezer',
    kind: 'cold storage',
    location: 'Warehouse',
    intervalMs: 2_000,
    fields: {
      temperature: { label: 'Temperature', unit: '°C', decimals: 1, mean: -18.4, sigma: 0.1, theta: 0.12, spikeChance: 0.03, spike: 3.5 },
      power: { label: 'Compressor', unit: 'W', decimals: 0, mean: 850, sigma: 25, theta: 0.3, min: 0 },
    },
    facts: (values) => ({ door: (values.temperature ?? -18) > -16.5 ? 'open' : 'closed' }),
  },
  {
    id: 'press-01',
    name: 'Hydraulic press 01',
    kind: 'machine',
    location: 'Hall B',
    intervalMs: 500,
    fields: {
      rpm: { label: 'Motor speed', unit: 'rpm', decimals: 0, mean: 1_450, sigma: 6, theta: 0.3 },
      vibration: { label: 'Vibration', unit: 'mm/s', decimals: 2, mean: 2.1, sigma: 0.12, theta: 0.3, min: 0 },
      oilTemperature: { label: 'Oil temp.', unit: '°C', decimals: 1, mean: 48, sigma: 0.15, theta: 0.05 },
      power: { label: 'Power', unit: 'kW', decimals: 1, mean: 7.5, sigma: 0.2, theta: 0.3 },
    },
    facts: () => ({ state: 'running' }),
  },
]

export const COMMANDS = ['blink', 'ping', 'set-interval', 'reboot'] as const

export interface SimulatorOptions {
  /** Broker URL, `mqtt://host:1883` (the simulator talks TCP, as devices do). */
  url: string
  username?: string
  password?: string
  protocolVersion?: ClientOptions['protocolVersion']
  /** Topic prefix. Default `demo`. */
  prefix?: string
  devices?: DeviceSpec[]
  /** Seed for the noise, for repeatable runs. */
  seed?: number
  /** How long a `reboot` keeps a device offline. Default 3,000 ms. */
  rebootMs?: number
  /** How long to wait for every device to connect. Default 15,000 ms. */
  connectTimeout?: number
}

export interface Simulator {
  readonly devices: readonly DeviceSpec[]
  readonly prefix: string
  /** Telemetry messages published so far. */
  readonly published: number
  /** Marks every device `offline` (retained), and disconnects. */
  stop(): Promise<void>
}

/** A small, fast, seedable PRNG (mulberry32). */
export function randomGenerator(seed = Date.now()): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** A standard normal sample (Box–Muller). */
function gaussian(random: () => number): number {
  const u = 1 - random()
  const v = random()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}

/** The next reading of a field: an Ornstein–Uhlenbeck step (noise that wanders but returns to the mean). */
export function nextReading(spec: FieldSpec, state: { value: number; mean: number }, random: () => number): number {
  state.mean += spec.drift ?? 0
  let value = state.value + (spec.theta ?? 0.1) * (state.mean - state.value) + spec.sigma * gaussian(random)
  if (spec.spikeChance !== undefined && spec.spike !== undefined && random() < spec.spikeChance) value += spec.spike
  if (spec.min !== undefined) value = Math.max(spec.min, value)
  if (spec.max !== undefined) value = Math.min(spec.max, value)
  state.value = value
  const factor = 10 ** spec.decimals
  return Math.round(value * factor) / factor
}

interface Command {
  id?: unknown
  command?: unknown
  value?: unknown
}

class SimulatedDevice {
  readonly client: MQTTClient
  private timer: ReturnType<typeof setTimeout> | undefined
  private rebootTimer: ReturnType<typeof setTimeout> | undefined
  private intervalMs: number
  private readonly state = new Map<string, { value: number; mean: number }>()
  private readonly startedAt = Date.now()
  private rebooting = false
  private stopped = false
  published = 0
  private readonly t: (leaf: string) => string

  constructor(
    readonly spec: DeviceSpec,
    private readonly options: SimulatorOptions,
    private readonly random: () => number,
  ) {
    const prefix = (options.prefix ?? 'demo').split('/')
    this.t = (leaf) => topic(...prefix, 'devices', spec.id, leaf)
    this.intervalMs = spec.intervalMs
    for (const [key, field] of Object.entries(spec.fields)) this.state.set(key, { value: field.mean, mean: field.mean })
    this.client = connect(options.url, {
      clientId: `sim-${spec.id}-${Math.floor(random() * 0xffffff).toString(16)}`,
      username: options.username,
      password: options.password,
      protocolVersion: options.protocolVersion,
      keepalive: 15,
      reconnect: { initialDelay: 500, maxDelay: 5_000 },
      will: { topic: this.t('status'), payload: 'offline', qos: 1, retain: true },
    })
    // After every (re)connect: the broker may have lost the retained messages (an in-memory broker restart).
    this.client.status$.pipe(filter((s) => s.type === 'connected')).subscribe(() => void this.announce())
    this.client.observe(this.t('cmd'), { qos: 1, codec: 'text' }).subscribe({
      next: (message) => void this.onCommand(message.payload),
      error: () => {},
    })
    this.client.errors$.subscribe(() => {})
  }

  /** Resolves once connected; rejects when the first attempt fails (a wrong URL should not look like a hang). */
  async ready(ms: number): Promise<void> {
    const status = await firstValueFrom(
      this.client.status$.pipe(
        filter((s) => s.type !== 'connecting'),
        timeout({ first: ms, with: () => { throw new Error(`device ${this.spec.id} did not connect to ${this.options.url} within ${ms} ms`) } }),
      ),
    )
    if (status.type !== 'connected') {
      const reason = status.type === 'closed' || status.type === 'reconnecting' ? status.error?.message : undefined
      throw new Error(`device ${this.spec.id} could not connect to ${this.options.url}: ${reason ?? status.type}`)
    }
    this.schedule()
  }

  private async announce(): Promise<void> {
    const fields = Object.fromEntries(Object.entries(this.spec.fields).map(([k, f]) => [k, { label: f.label, unit: f.unit, decimals: f.decimals }]))
    const meta = { name: this.spec.name, kind: this.spec.kind, location: this.spec.location, fields, commands: [...COMMANDS] }
    await this.safely(this.client.publish(this.t('meta'), meta, { qos: 1, retain: true }))
    if (!this.rebooting) await this.safely(this.client.publish(this.t('status'), 'online', { qos: 1, retain: true }))
  }

  private async safely(promise: Promise<void>): Promise<void> {
    try {
      await promise
    } catch {
      // offline or closing: the next connect announces again
    }
  }

  private schedule(): void {
    if (this.stopped) return
    const jitter = 1 + (this.random() - 0.5) * 0.3
    this.timer = setTimeout(() => {
      this.report()
      this.schedule()
    }, this.intervalMs * jitter)
  }

  private report(): void {
    if (this.rebooting) return
    const values: Record<string, number> = {}
    for (const [key, field] of Object.entries(this.spec.fields)) {
      values[key] = nextReading(field, this.state.get(key) as { value: number; mean: number }, this.random)
    }
    const facts = this.spec.facts?.(values, this.random) ?? {}
    this.published++
    void this.safely(this.client.publish(this.t('telemetry'), { ts: Date.now(), ...values, ...facts }, { qos: 0 }))
  }

  private async reply(id: unknown, command: string, ok: boolean, message: string): Promise<void> {
    await this.safely(this.client.publish(this.t('reply'), { id: typeof id === 'string' || typeof id === 'number' ? id : null, command, ok, message }, { qos: 1 }))
  }

  private async onCommand(text: string): Promise<void> {
    let command: Command
    try {
      command = JSON.parse(text) as Command
      if (typeof command !== 'object' || command === null) throw new Error('not an object')
    } catch {
      await this.reply(null, '', false, 'The command is not JSON: send {"id":"…","command":"blink"}')
      return
    }
    const name = typeof command.command === 'string' ? command.command : ''
    if (this.rebooting) {
      await this.reply(command.id, name, false, 'Busy rebooting, try again in a moment')
      return
    }
    switch (name) {
      case 'blink':
        await this.reply(command.id, name, true, 'Blinked the status LED 3 times')
        return
      case 'ping': {
        const up = Math.round((Date.now() - this.startedAt) / 1000)
        await this.reply(command.id, name, true, `pong, up ${up < 120 ? `${up} s` : `${Math.round(up / 60)} min`}`)
        return
      }
      case 'set-interval': {
        const ms = Number(command.value)
        if (!Number.isFinite(ms) || ms < 100 || ms > 60_000) {
          await this.reply(command.id, name, false, 'The interval must be between 100 and 60000 ms')
          return
        }
        this.intervalMs = ms
        clearTimeout(this.timer)
        this.schedule()
        await this.reply(command.id, name, true, `Reporting every ${(ms / 1000).toFixed(1)} s`)
        return
      }
      case 'reboot': {
        const ms = this.options.rebootMs ?? 3_000
        await this.reply(command.id, name, true, `Rebooting, back in ${(ms / 1000).toFixed(0)} s`)
        this.rebooting = true
        await this.safely(this.client.publish(this.t('status'), 'offline', { qos: 1, retain: true }))
        this.rebootTimer = setTimeout(() => {
          this.rebooting = false
          void this.safely(this.client.publish(this.t('status'), 'online', { qos: 1, retain: true }))
        }, ms)
        return
      }
      default:
        await this.reply(command.id, name, false, `Unknown command "${name}": try ${COMMANDS.join(', ')}`)
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    clearTimeout(this.rebootTimer)
    await this.safely(this.client.publish(this.t('status'), 'offline', { qos: 1, retain: true, timeout: 2_000 }))
    await this.client.end({ timeout: 2_000 })
  }
}

/** Publishes `rate` messages per second for `seconds` to `{prefix}/load/sensor-N`, to stress subscribers. */
class LoadGenerator {
  private timer: ReturnType<typeof setInterval> | undefined
  private seq = 0

  constructor(
    private readonly client: MQTTClient,
    private readonly prefix: string[],
  ) {}

  /** Publishes exactly `rate × seconds` messages, paced by the clock (timers drift; the count does not). */
  start(rate: number, seconds: number): void {
    this.stop()
    const total = Math.round(rate * seconds)
    const started = Date.now()
    let sent = 0
    this.timer = setInterval(() => {
      const due = Math.min(total, Math.floor((rate * (Date.now() - started)) / 1000))
      for (; sent < due; sent++) {
        this.seq++
        const sensor = this.seq % 50
        void this.client
          .publish(topic(...this.prefix, 'load', `sensor-${sensor}`), { seq: this.seq, value: Math.round(Math.sin(this.seq / 50) * 1000) / 10 }, { qos: 0 })
          .catch(() => {})
      }
      if (sent >= total) this.stop()
    }, 20)
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }
}

/**
 * Starts the simulated devices; resolves once each is connected and announced `online`.
 *
 * @example
 * ```ts
 * const sim = await startSimulator({ url: 'mqtt://127.0.0.1:1883' })
 * await sim.stop()
 * ```
 */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const prefix = options.prefix ?? 'demo'
  const random = randomGenerator(options.seed)
  const specs = options.devices ?? DEFAULT_DEVICES
  const devices = specs.map((spec) => new SimulatedDevice(spec, options, random))

  const control = connect(options.url, {
    clientId: `sim-control-${Math.floor(random() * 0xffffff).toString(16)}`,
    username: options.username,
    password: options.password,
    protocolVersion: options.protocolVersion,
    reconnect: { initialDelay: 500, maxDelay: 5_000 },
  })
  control.errors$.subscribe(() => {})
  const load = new LoadGenerator(control, prefix.split('/'))
  control.observe(topic(...prefix.split('/'), 'simulator', 'cmd'), { qos: 1, codec: 'text' }).subscribe({
    next: (message) => {
      let command: Command & { rate?: unknown; seconds?: unknown }
      try {
        command = JSON.parse(message.payload) as typeof command
      } catch {
        return
      }
      const reply = (ok: boolean, text: string) =>
        void control.publish(topic(...prefix.split('/'), 'simulator', 'reply'), { id: command.id ?? null, command: command.command, ok, message: text }, { qos: 1 }).catch(() => {})
      if (command.command === 'stress') {
        const rate = Math.min(20_000, Math.max(1, Number(command.rate) || 2_000))
        const seconds = Math.min(60, Math.max(1, Number(command.seconds) || 10))
        load.start(rate, seconds)
        reply(true, `Publishing ${rate} msg/s to ${prefix}/load/# for ${seconds} s`)
      } else if (command.command === 'stop') {
        load.stop()
        reply(true, 'Load stopped')
      } else {
        reply(false, `Unknown command "${String(command.command)}": try stress or stop`)
      }
    },
    error: () => {},
  })

  const stopAll = async () => {
    load.stop()
    await Promise.allSettled([...devices.map((d) => d.stop()), control.end({ timeout: 2_000 })])
  }
  try {
    await Promise.all(devices.map((d) => d.ready(options.connectTimeout ?? 15_000)))
  } catch (error) {
    await stopAll()
    throw error
  }

  let stopping: Promise<void> | undefined
  return {
    devices: specs,
    prefix,
    get published() {
      return devices.reduce((n, d) => n + d.published, 0)
    },
    stop: () => (stopping ??= stopAll()),
  }
}

// Standalone: `npx tsx demo/simulator.ts [mqtt://host:1883]` (MQTT_USERNAME / MQTT_PASSWORD from the environment).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const url = process.argv[2] ?? process.env.MQTT_TCP_URL ?? 'mqtt://127.0.0.1:1883'
  const sim = await startSimulator({ url, username: process.env.MQTT_USERNAME, password: process.env.MQTT_PASSWORD })
  process.stdout.write(`Simulating ${sim.devices.length} devices on ${url} under ${sim.prefix}/devices/. Ctrl-C stops.\n`)
  const stop = () => void sim.stop().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
