import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findBinary } from '../binaries.js'
import { freePort } from '../ports.js'
import { waitForMqtt } from './ready.js'

/**
 * A private nats-server with JetStream (in a temporary folder), its MQTT listener and a WebSocket listener
 * (MQTT over WebSocket on `/mqtt`), all on free loopback ports: never the machine's own server on 4222.
 */
export class NatsServer {
  /** Milliseconds from spawn to the first MQTT CONNACK. */
  startupMs = 0
  private process: ChildProcess | undefined
  private exit: string | undefined
  private output = ''

  private constructor(
    readonly dir: string,
    readonly serverName: string,
    readonly clientPort: number,
    readonly mqttPort: number,
    readonly wsPort: number,
  ) {}

  static async start(): Promise<NatsServer> {
    const binary = findBinary('nats-server')
    if (!binary) throw new Error('nats-server is not installed (apt-get install nats-server)')
    const dir = await mkdtemp(join(tmpdir(), 'iotpubsub-nats-'))
    const server = new NatsServer(dir, `iotpubsub_${process.pid}_${randomBytes(3).toString('hex')}`, await freePort(), await freePort(), await freePort())
    await writeFile(
      join(dir, 'nats.conf'),
      [
        `server_name: ${server.serverName}`,
        `listen: 127.0.0.1:${server.clientPort}`,
        `jetstream { store_dir: ${JSON.stringify(join(dir, 'jetstream'))} }`,
        `mqtt { listen: 127.0.0.1:${server.mqttPort} }`,
        `websocket { listen: "127.0.0.1:${server.wsPort}", no_tls: true }`,
        '',
      ].join('\n'),
    )
    const started = Date.now()
    const child = spawn(binary, ['-c', join(dir, 'nats.conf')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    const append = (chunk: Buffer): void => {
      server.output = (server.output + chunk.toString()).slice(-20_000)
    }
    child.stdout?.on('data', append)
    child.stderr?.on('data', append)
    child.once('exit', (code, signal) => (server.exit = `exit ${code ?? signal}`))
    server.process = child
    const exited = (): string | undefined => (server.exit === undefined ? undefined : `${server.exit}\n${server.output}`)
    try {
      await waitForMqtt(server.tcpUrl, 'nats-server', exited, 20_000)
      await waitForMqtt(server.wsUrl, 'nats-server (WebSocket)', exited, 20_000)
    } catch (error) {
      await server.dispose()
      throw error
    }
    server.startupMs = Date.now() - started
    return server
  }

  get tcpUrl(): string {
    return `mqtt://127.0.0.1:${this.mqttPort}`
  }

  /** NATS serves MQTT over WebSockets on `/mqtt`. */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.wsPort}/mqtt`
  }

  /** What the server printed (its log goes to stderr). */
  log(): string {
    return this.output
  }

  async dispose(): Promise<void> {
    const child = this.process
    if (child && this.exit === undefined) {
      const exited = new Promise<void>((done) => child.once('exit', () => done()))
      child.kill('SIGKILL')
      await exited
    }
    await rm(this.dir, { recursive: true, force: true })
  }
}
