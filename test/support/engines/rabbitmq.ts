import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { findBinary } from '../binaries.js'
import { freePort } from '../ports.js'
import { waitForMqtt } from './ready.js'

const run = promisify(execFile)

/** Debian's rabbitmq-server 3.10 layout: the real scripts (the /usr/sbin ones switch to the rabbitmq user). */
const SCRIPTS = '/usr/lib/rabbitmq/bin'
/** Keeps Erlang distribution (the node's and the CLI's) on loopback. */
const LOOPBACK_DIST = '-kernel inet_dist_use_interface {127,0,0,1}'

function script(name: 'rabbitmq-server' | 'rabbitmqctl'): string {
  const direct = join(SCRIPTS, name)
  if (existsSync(direct)) return direct
  const found = findBinary(name)
  if (!found) throw new Error(`${name} is not installed (apt-get install rabbitmq-server)`)
  return found
}

export interface RabbitNodeOptions {
  /** Shared by the nodes of one cluster: the Erlang cookie and the private epmd's port. */
  cookie?: string
  epmdPort?: number
  /** A name prefix for the node (`NAME-RANDOM@localhost`). */
  name?: string
  /** Extra rabbitmq.conf lines. */
  config?: string[]
}

/**
 * A private RabbitMQ node with the MQTT and Web-MQTT plugins, on free loopback ports: its own node name,
 * Erlang cookie, epmd (never the machine's on 4369), Mnesia and log folders in a temporary folder. The
 * machine's own RabbitMQ (5672, 25672, epmd 4369) is never touched: no AMQP listener, and every port here
 * comes from the OS.
 */
export class RabbitNode {
  readonly dir: string
  readonly nodeName: string
  readonly cookie: string
  readonly epmdPort: number
  readonly mqttPort: number
  readonly wsPort: number
  readonly distPort: number
  /** Milliseconds from spawn to the first MQTT CONNACK. */
  startupMs = 0
  private process: ChildProcess | undefined
  private exit: string | undefined
  private stderr = ''

  private constructor(init: { dir: string; nodeName: string; cookie: string; epmdPort: number; mqttPort: number; wsPort: number; distPort: number }) {
    this.dir = init.dir
    this.nodeName = init.nodeName
    this.cookie = init.cookie
    this.epmdPort = init.epmdPort
    this.mqttPort = init.mqttPort
    this.wsPort = init.wsPort
    this.distPort = init.distPort
  }

  /** Writes the node's files and starts it; resolves once it answers an MQTT CONNECT over TCP and WebSockets. */
  static async start(options: RabbitNodeOptions = {}): Promise<RabbitNode> {
    const node = await RabbitNode.prepare(options)
    await node.launch()
    return node
  }

  static async prepare(options: RabbitNodeOptions = {}): Promise<RabbitNode> {
    const dir = await mkdtemp(join(tmpdir(), 'iotpubsub-rabbitmq-'))
    const [mqttPort, wsPort, distPort, nodePort] = [await freePort(), await freePort(), await freePort(), await freePort()]
    const node = new RabbitNode({
      dir,
      nodeName: `${options.name ?? 'iotpubsub'}-${process.pid}-${randomBytes(3).toString('hex')}@localhost`,
      cookie: options.cookie ?? randomBytes(16).toString('hex').toUpperCase(),
      epmdPort: options.epmdPort ?? (await freePort()),
      mqttPort,
      wsPort,
      distPort,
    })
    for (const sub of ['home', 'mnesia', 'log']) await mkdir(join(dir, sub), { recursive: true })
    await writeFile(join(dir, 'home', '.erlang.cookie'), node.cookie, { mode: 0o400 })
    await writeFile(join(dir, 'enabled_plugins'), '[rabbitmq_mqtt,rabbitmq_web_mqtt].\n')
    // Read instead of /etc/rabbitmq/rabbitmq-env.conf, which names the machine's own node.
    await writeFile(join(dir, 'rabbitmq-env.conf'), '')
    await writeFile(
      join(dir, 'rabbitmq.conf'),
      [
        'listeners.tcp = none',
        `mqtt.listeners.tcp.default = 127.0.0.1:${mqttPort}`,
        `web_mqtt.tcp.ip = 127.0.0.1`,
        `web_mqtt.tcp.port = ${wsPort}`,
        // MQTT clients without credentials log in as guest, which RabbitMQ allows from loopback only.
        'mqtt.allow_anonymous = true',
        'mqtt.default_user = guest',
        'mqtt.default_pass = guest',
        'log.console = false',
        'log.file.level = info',
        ...(options.config ?? []),
        '',
      ].join('\n'),
    )
    node.nodePort = nodePort
    return node
  }

  private nodePort = 0

  get tcpUrl(): string {
    return `mqtt://127.0.0.1:${this.mqttPort}`
  }

  /** RabbitMQ serves MQTT over WebSockets on `/ws` only. */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.wsPort}/ws`
  }

  get pid(): number | undefined {
    return this.process?.pid
  }

  get running(): boolean {
    return this.process !== undefined && this.exit === undefined
  }

  env(): NodeJS.ProcessEnv {
    const dir = this.dir
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      HOME: join(dir, 'home'),
      RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.nodePort),
      RABBITMQ_DIST_PORT: String(this.distPort),
      ERL_EPMD_PORT: String(this.epmdPort),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: LOOPBACK_DIST,
      RABBITMQ_CTL_ERL_ARGS: LOOPBACK_DIST,
    }
  }

  /** Starts the node (again, after `kill`, with the same name, ports and data). */
  async launch(): Promise<void> {
    const started = Date.now()
    this.exit = undefined
    this.stderr = ''
    // Its own process group, so that `kill` takes beam.smp and its helpers down together.
    const child = spawn(script('rabbitmq-server'), [], { env: this.env(), cwd: this.dir, detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()))
    child.once('exit', (code, signal) => (this.exit = `exit ${code ?? signal}`))
    this.process = child
    const exited = (): string | undefined => (this.exit === undefined ? undefined : `${this.exit}\n${this.stderr}`)
    try {
      await waitForMqtt(this.tcpUrl, `RabbitMQ node ${this.nodeName}`, exited)
      await waitForMqtt(this.wsUrl, `RabbitMQ node ${this.nodeName} (Web-MQTT)`, exited)
    } catch (error) {
      await this.kill()
      throw new Error(`${(error as Error).message}\n--- log:\n${(await this.log()).slice(-4_000)}`)
    }
    this.startupMs = Date.now() - started
  }

  /** `rabbitmqctl -n NODE ...` with this node's cookie and epmd. */
  async ctl(...args: string[]): Promise<string> {
    const { stdout } = await run(script('rabbitmqctl'), ['-n', this.nodeName, ...args], { env: this.env(), cwd: this.dir, timeout: 60_000 })
    return stdout
  }

  /** Joins the cluster of `other` (stop_app, join_cluster, start_app) and waits for MQTT again. */
  async joinCluster(other: RabbitNode): Promise<void> {
    await this.ctl('stop_app')
    await this.ctl('join_cluster', other.nodeName)
    await this.ctl('start_app')
    const exited = (): string | undefined => this.exit
    await waitForMqtt(this.tcpUrl, `RabbitMQ node ${this.nodeName}`, exited)
    await waitForMqtt(this.wsUrl, `RabbitMQ node ${this.nodeName} (Web-MQTT)`, exited)
  }

  /** The node's log so far. */
  async log(): Promise<string> {
    const file = join(this.dir, 'log', `${this.nodeName}.log`)
    return existsSync(file) ? readFile(file, 'utf8') : ''
  }

  /** A crash: SIGKILL to the node's process group; resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.process
    if (!child || child.pid === undefined || this.exit !== undefined) return
    const exited = new Promise<void>((done) => child.once('exit', () => done()))
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      child.kill('SIGKILL')
    }
    await exited
  }

  /** A clean shutdown: `rabbitmqctl stop`, then the process group if it lingers. */
  async stop(): Promise<void> {
    if (!this.running) return
    await this.ctl('stop').catch(() => undefined)
    await this.kill()
  }

  /** Kills the node, its private epmd (unless shared and `keepEpmd`), and deletes its folder. */
  async dispose(keepEpmd = false): Promise<void> {
    await this.kill()
    if (!keepEpmd) await killEpmd(this.epmdPort)
    await rm(this.dir, { recursive: true, force: true })
  }
}

/**
 * Stops the private epmd on `port` (Erlang starts it as a daemon, outside the node's process group). epmd
 * refuses while it still lists a node, which a node killed a moment ago can be: retried until it goes.
 */
export async function killEpmd(port: number): Promise<void> {
  const epmd = findBinary('epmd')
  if (!epmd || port === 4369) return
  const deadline = Date.now() + 15_000
  for (;;) {
    const output = await run(epmd, ['-port', String(port), '-kill'], { env: { ...process.env, ERL_EPMD_PORT: String(port) }, timeout: 10_000 }).then(
      ({ stdout, stderr }) => stdout + stderr,
      (error: { stdout?: string; stderr?: string; message: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}${error.message}`,
    )
    if (/Killed/.test(output) || /cannot connect|no running/i.test(output)) return
    if (Date.now() > deadline) {
      process.stderr.write(`[engines] the private epmd on port ${port} would not stop: ${output}\n`)
      return
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Two (or more) private RabbitMQ nodes with one cookie and one private epmd, joined with `join_cluster`. */
export class RabbitCluster {
  private constructor(readonly nodes: readonly RabbitNode[]) {}

  /** Starts `count` nodes in parallel, then joins every other node to the first. */
  static async start(count = 2): Promise<RabbitCluster> {
    const cookie = randomBytes(16).toString('hex').toUpperCase()
    const epmdPort = await freePort()
    const nodes: RabbitNode[] = []
    for (let i = 1; i <= count; i++) nodes.push(await RabbitNode.prepare({ cookie, epmdPort, name: `iotpubsub-n${i}` }))
    const cluster = new RabbitCluster(nodes)
    try {
      await Promise.all(nodes.map((n) => n.launch()))
      for (const node of nodes.slice(1)) await node.joinCluster(nodes[0] as RabbitNode)
    } catch (error) {
      await cluster.dispose()
      throw error
    }
    return cluster
  }

  /**
   * Mirrors the MQTT plugin's subscription queues (`mqtt-subscription-CLIENTIDqosN`, durable, homed on the
   * node the client connected to) on every node. Without it a client that moves to another node cannot
   * subscribe while its old node is down: declaring its queue there fails with 404 "home node ... is down",
   * and RabbitMQ closes the connection.
   */
  async mirrorMqttQueues(clientIdPrefix = ''): Promise<void> {
    const pattern = `^mqtt-subscription-${clientIdPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`
    await (this.nodes[0] as RabbitNode).ctl('set_policy', 'iotpubsub-mqtt-everywhere', pattern, '{"ha-mode":"all","ha-sync-mode":"automatic"}', '--apply-to', 'queues')
  }

  /** The running nodes' names as `cluster_status` reports them, from `node`'s point of view. */
  async runningNodes(node: RabbitNode): Promise<string[]> {
    const status = JSON.parse(await node.ctl('cluster_status', '--formatter', 'json')) as { running_nodes?: string[] }
    return status.running_nodes ?? []
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.dispose(true)))
    const first = this.nodes[0]
    if (first) await killEpmd(first.epmdPort)
  }
}
