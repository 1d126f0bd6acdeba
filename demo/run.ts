/**
 * `npm run demo`: the embedded broker (aedes, TCP + WebSocket), the device simulator and the Vite dev
 * server for the page, in one process. Ctrl-C, SIGTERM or SIGHUP (to npm or to this process) stops all
 * three, and so does npm exiting under it.
 *
 * Environment:
 *   MQTT_URL=ws://host:9001        use an existing broker for the page instead of the embedded one
 *   MQTT_TCP_URL=mqtt://host:1883  where the simulator connects (default: MQTT_URL's host, port 1883)
 *   MQTT_USERNAME, MQTT_PASSWORD   credentials for both
 *   DEMO_SIMULATOR=0               do not start the simulator
 *   DEMO_TCP_PORT, DEMO_WS_PORT, DEMO_PORT   ports to try first (1883, 9001, 5173); taken ports fall back to
 *                                            free ones, and a line says which and why
 */
import type { AddressInfo } from 'node:net'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createLogger, createServer, type Logger, type Plugin, type ViteDevServer } from 'vite'
import { startBroker, type EmbeddedBroker } from './broker.js'
import { startSimulator, type Simulator } from './simulator.js'
import type { DemoConfig } from './src/config.js'

export interface DemoOptions {
  /** A WebSocket URL of an existing broker, for the page. Without it the embedded broker starts. */
  mqttUrl?: string
  /** A TCP URL of the existing broker, for the simulator. Default: `mqttUrl`'s host on port 1883. */
  mqttTcpUrl?: string
  username?: string
  password?: string
  /** Start the simulator. Default true. */
  simulator?: boolean
  /** Ports to try first; taken ones fall back to free ports. Defaults 1883, 9001, 5173. */
  tcpPort?: number
  wsPort?: number
  webPort?: number
  /** Topic prefix of the simulator and the page. Default `demo`. */
  prefix?: string
  /** How long a simulated `reboot` lasts. */
  rebootMs?: number
  /** Where progress lines go. Default: stdout. */
  log?: (line: string) => void
  /** Vite's cache folder (pre-bundled dependencies). Default: Vite's, `node_modules/.vite`. */
  cacheDir?: string
  /**
   * Reload the page when a source file changes (Vite's file watcher and HMR). Default true. The tests turn it
   * off: a file saved elsewhere in the project during a run would reload the page under test.
   */
  watch?: boolean
}

export interface DemoStack {
  /** The page, e.g. `http://localhost:5173/`. */
  readonly pageUrl: string
  /** The broker URL the page connects to. */
  readonly wsUrl: string
  /** The broker URL the simulator connects to (when it runs). */
  readonly tcpUrl: string | undefined
  readonly broker: EmbeddedBroker | undefined
  readonly simulator: Simulator | undefined
  readonly server: ViteDevServer
  /** Stops the simulator (devices say offline), the web server and the broker. */
  stop(): Promise<void>
}

const configFile = fileURLToPath(new URL('../vite.config.ts', import.meta.url))

/** Serves `/demo-config.json`: the page's broker URL and credentials, read by demo/src/config.ts. */
function demoConfigPlugin(config: Partial<DemoConfig>): Plugin {
  return {
    name: 'iotpubsub-demo-config',
    configureServer(server) {
      server.middlewares.use('/demo-config.json', (_req, res) => {
        res.setHeader('content-type', 'application/json')
        res.setHeader('cache-control', 'no-store')
        res.end(JSON.stringify(config))
      })
    },
  }
}

/** Vite's logger, silenced once the demo is stopping (Ctrl-C also stops esbuild, whose pending work then fails loudly). */
function quietableLogger(level: 'info' | 'warn'): { logger: Logger; silence: () => void } {
  const logger = createLogger(level)
  let silent = false
  return {
    logger: {
      ...logger,
      info: (msg, options) => void (silent || logger.info(msg, options)),
      warn: (msg, options) => void (silent || logger.warn(msg, options)),
      warnOnce: (msg, options) => void (silent || logger.warnOnce(msg, options)),
      error: (msg, options) => void (silent || logger.error(msg, options)),
    },
    silence: () => {
      silent = true
    },
  }
}

function tcpUrlFor(wsUrl: string): string {
  const url = new URL(wsUrl)
  return `${url.protocol === 'wss:' ? 'mqtts' : 'mqtt'}://${url.hostname}:${url.protocol === 'wss:' ? 8883 : 1883}`
}

const DEFAULT_PORTS = { tcp: 1883, ws: 9001, web: 5173 }

/**
 * The line that says why a port other than the preferred one is used (the broker and Vite take a free
 * port when theirs is taken), with a guess at the usual holder of a default port; undefined when none.
 */
export function portNote(preferred: number, chosen: number, what: string, usualHolder?: string): string | undefined {
  if (preferred === 0 || preferred === chosen) return undefined
  return `port ${preferred} is taken${usualHolder ? ` (${usualHolder})` : ''}, using ${chosen} for ${what}`
}

/** Starts the whole demo. Used by `npm run demo` and by the end-to-end test (on free ports). */
export async function startDemo(options: DemoOptions = {}): Promise<DemoStack> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`))
  const prefix = options.prefix ?? 'demo'
  let broker: EmbeddedBroker | undefined
  let simulator: Simulator | undefined
  let server: ViteDevServer | undefined
  const vite = quietableLogger(process.env.DEMO_VITE_LOG === 'info' ? 'info' : 'warn')

  let stopping: Promise<void> | undefined
  const stop = () => (stopping ??= stopAll())
  const stopAll = async () => {
    vite.silence()
    await simulator?.stop().catch(() => {})
    await server?.close().catch(() => {})
    await broker?.close().catch(() => {})
  }

  try {
    let wsUrl: string
    let tcpUrl: string | undefined
    if (options.mqttUrl) {
      wsUrl = options.mqttUrl
      tcpUrl = options.mqttTcpUrl ?? tcpUrlFor(wsUrl)
      log(`Using the broker at ${wsUrl} (simulator: ${tcpUrl})`)
    } else {
      const tcpPort = options.tcpPort ?? DEFAULT_PORTS.tcp
      const wsPort = options.wsPort ?? DEFAULT_PORTS.ws
      // The page shows how many clients the broker has (its tabs share one connection): `{prefix}/broker/clients`.
      broker = await startBroker({ tcpPort, wsPort, clientsTopic: `${prefix}/broker/clients` })
      wsUrl = broker.wsUrl
      tcpUrl = broker.tcpUrl
      const notes = [
        portNote(tcpPort, broker.tcpPort, 'MQTT over TCP', tcpPort === DEFAULT_PORTS.tcp ? 'mosquitto on this machine?' : undefined),
        portNote(wsPort, broker.wsPort, 'MQTT over WebSocket', wsPort === DEFAULT_PORTS.ws ? "mosquitto's WebSocket listener?" : undefined),
      ]
      for (const note of notes) if (note) log(note)
      log(`Embedded MQTT broker (aedes, MQTT 3.1.1): ${broker.tcpUrl} and ${broker.wsUrl}`)
    }

    if (options.simulator ?? true) {
      try {
        simulator = await startSimulator({
          url: tcpUrl,
          username: options.username,
          password: options.password,
          prefix,
          rebootMs: options.rebootMs,
          connectTimeout: 10_000,
        })
        log(`Simulator: ${simulator.devices.length} devices publishing under ${prefix}/devices/`)
      } catch (error) {
        if (!options.mqttUrl) throw error
        log(`Simulator not started: ${(error as Error).message}`)
      }
    }

    const pageConfig: Partial<DemoConfig> = {
      url: wsUrl,
      prefix,
      simulator: simulator !== undefined,
      ...(options.username ? { username: options.username } : {}),
      ...(options.password ? { password: options.password } : {}),
    }
    server = await createServer({
      configFile,
      clearScreen: false,
      customLogger: vite.logger,
      server: { port: options.webPort ?? DEFAULT_PORTS.web, strictPort: false, ...(options.watch === false ? { watch: null, hmr: false } : {}) },
      plugins: [demoConfigPlugin(pageConfig)],
      // The page's only dependencies, pre-bundled at start: no crawl of the source, so the first page load
      // never triggers a re-optimise-and-reload, and a quick stop never interrupts a scan.
      optimizeDeps: { include: ['mqtt', 'rxjs'], noDiscovery: true },
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    })
    await server.listen()
    const webPort = options.webPort ?? DEFAULT_PORTS.web
    const address = server.httpServer?.address() as AddressInfo | null | undefined
    const webNote = address && portNote(webPort, address.port, 'the page', webPort === DEFAULT_PORTS.web ? 'another Vite dev server?' : undefined)
    if (webNote) log(webNote)
    const pageUrl = server.resolvedUrls?.local[0] ?? `http://localhost:${server.config.server.port}/`
    return { pageUrl, wsUrl, tcpUrl: simulator ? tcpUrl : undefined, broker, simulator, server, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

function port(name: string): number | undefined {
  const value = process.env[name]
  return value ? Number(value) : undefined
}

async function main(): Promise<void> {
  // A closed terminal makes writes fail (EIO, EPIPE): that must not crash the clean stop it started.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})
  const say = (text: string) => process.stdout.write(text)

  // Vite's dev server closes itself and exits on SIGTERM and at the end of stdin, which would end the
  // process before the simulator says goodbye and the broker closes: the listeners it adds are removed
  // below, and the demo stops its parts itself, in order.
  const before = { sigterm: process.listeners('SIGTERM'), stdinEnd: process.stdin.listeners('end') }
  // Handlers first: a signal during the start stops the demo as soon as it is up (or its start fails).
  const starting = startDemo({
    mqttUrl: process.env.MQTT_URL || undefined,
    mqttTcpUrl: process.env.MQTT_TCP_URL || undefined,
    username: process.env.MQTT_USERNAME || undefined,
    password: process.env.MQTT_PASSWORD || undefined,
    simulator: process.env.DEMO_SIMULATOR !== '0',
    tcpPort: port('DEMO_TCP_PORT'),
    wsPort: port('DEMO_WS_PORT'),
    webPort: port('DEMO_PORT'),
  })

  // A terminal's Ctrl-C reaches every process of the group and npm relays it once more: the first signal
  // starts a clean stop, repeats within 3 s are that same Ctrl-C, a later one forces the exit.
  let firstSignal: number | undefined
  const shutdown = (reason: string) => {
    if (firstSignal !== undefined) {
      if (Date.now() - firstSignal < 3_000) return
      say(`Second ${reason}: exiting now.\n`)
      process.exit(1)
    }
    firstSignal = Date.now()
    say(`\n${reason}: stopping the simulator, the web server and the broker…\n`)
    // A stop that hangs must not leave the ports held: give up after 10 s.
    setTimeout(() => {
      process.stderr.write('The demo did not stop within 10 s: exiting.\n')
      process.exit(1)
    }, 10_000).unref()
    starting
      .then((stack) => stack.stop())
      .then(
        () => {
          say('Stopped.\n')
          process.exit(0)
        },
        (error: unknown) => {
          process.stderr.write(`Error while stopping: ${String(error)}\n`)
          process.exit(1)
        },
      )
  }
  // SIGINT: Ctrl-C. SIGTERM: a process manager, `kill`, npm relaying either. SIGHUP: a closed terminal.
  const ours = new Set<(...args: never[]) => void>()
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const listener = () => shutdown(signal)
    ours.add(listener)
    process.on(signal, listener)
  }

  // npm relays SIGINT and SIGTERM (the "demo" script execs node, so no shell sits in between), but a
  // SIGHUP or SIGKILL ends npm alone and leaves this process to init: a new parent means stop. Node has
  // no parent-death signal, so the parent is checked twice a second.
  const parent = process.ppid
  if (parent > 1) {
    const watch = setInterval(() => {
      if (process.ppid === parent) return
      clearInterval(watch)
      // Not a "second signal": with a closed terminal the SIGHUP of this process came first.
      if (firstSignal === undefined) shutdown(`the parent process (pid ${parent}) exited`)
    }, 500)
    watch.unref()
  }

  const stack = await starting
  for (const listener of process.listeners('SIGTERM')) if (!before.sigterm.includes(listener) && !ours.has(listener)) process.off('SIGTERM', listener)
  for (const listener of process.stdin.listeners('end')) if (!before.stdinEnd.includes(listener)) process.stdin.off('end', listener as () => void)
  say(`\n  Dashboard: ${stack.pageUrl}\n\n  Press Ctrl-C to stop.\n\n`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`The demo could not start: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}
